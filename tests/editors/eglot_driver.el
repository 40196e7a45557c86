;;; eglot_driver.el --- batch Emacs + Eglot for tests/editors/test_emacs_eglot.py  -*- lexical-binding: t; -*-

;; Run as: emacs --batch -Q -l eglot_driver.el, with these in the environment:
;;   HF_LSP_EGLOT_CONFIG  the user's configuration (editors/emacs/hf-lsp-eglot.el)
;;   HF_LSP_TEST_URL      the loopback Inference API, added to the documented settings
;;   HF_LSP_TEST_FILE     the file to visit
;;   HF_LSP_TEST_SCENARIO "completion" or "action"
;;   HF_LSP_TEST_RESULT   where the JSON result goes
;; Each scenario does what a user does (M-x eglot, M-x completion-at-point, M-x
;; eglot-code-actions) and records the buffer text, the prompts it was asked and Eglot's
;; messages. Emacs exits 0 once the result is written, 1 on an error (also recorded).

(require 'json)
(require 'subr-x)
(require 'cl-lib)
(require 'lisp-mnt)

;; -Q skips what a normal start does: activating installed packages, among them Debian's
;; elpa-eglot (Emacs 28). Emacs 29 and later have Eglot built in.
(unless (locate-library "eglot")
  (require 'package)
  (setq package-directory-list '("/usr/share/emacs/site-lisp/elpa"))
  (package-initialize))

(defvar hf-test-prompts nil "Every question asked, newest first.")
(defvar hf-test-result nil "The result plist, written as JSON.")

(defun hf-test--env (name)
  (or (getenv name) (error "%s is not set" name)))

(defun hf-test--wait (what probe &optional seconds)
  "Wait until PROBE returns non-nil, reading process output meanwhile."
  (let ((deadline (+ (float-time) (or seconds 20))))
    (while (not (funcall probe))
      (when (> (float-time) deadline)
        (error "timed out waiting for %s" what))
      (accept-process-output nil 0.05))))

(defun hf-test--write (status)
  (let ((events (let ((server (ignore-errors (eglot-current-server))))
                  (and server (buffer-live-p (jsonrpc-events-buffer server))
                       (with-current-buffer (jsonrpc-events-buffer server)
                         (buffer-substring-no-properties
                          (max (point-min) (- (point-max) 6000)) (point-max)))))))
    (with-temp-file (hf-test--env "HF_LSP_TEST_RESULT")
      (insert (json-encode
               `((status . ,status)
                 (emacs . ,emacs-version)
                 (eglot . ,(or (ignore-errors (lm-version (locate-library "eglot.el"))) ""))
                 (prompts . ,(vconcat (reverse hf-test-prompts)))
                 (messages . ,(with-current-buffer (messages-buffer)
                                (buffer-substring-no-properties (point-min) (point-max))))
                 (events . ,(or events ""))
                 ,@hf-test-result))))))

;; The user's configuration, as their init file loads it, with the loopback server's address
;; added to the documented settings (where a user writes e.g. a local TGI's :url).
(load (hf-test--env "HF_LSP_EGLOT_CONFIG") nil t)
(require 'eglot)

(defun hf-test--with-url (config url)
  (let ((section (copy-sequence (plist-get config :hfLsp))))
    (plist-put (copy-sequence config) :hfLsp (plist-put section :url url))))

(setq-default eglot-workspace-configuration
              (hf-test--with-url (default-value 'eglot-workspace-configuration)
                                 (hf-test--env "HF_LSP_TEST_URL")))

(defun hf-test--open ()
  "Visit the file and start Eglot on it, as M-x eglot does."
  (find-file (hf-test--env "HF_LSP_TEST_FILE"))
  (call-interactively #'eglot)
  (hf-test--wait "Eglot to connect"
                 (lambda () (let ((s (eglot-current-server)))
                              (and s (eglot--capabilities s)))))
  (goto-char (point-max)))

(defun hf-test-completion ()
  "M-x completion-at-point at the end of the buffer."
  (hf-test--open)
  (let ((before (buffer-string)))
    (call-interactively #'completion-at-point)
    ;; the server's answer arrives while completion-at-point waits; then the exit function
    ;; replaces the label with the item's edit
    (hf-test--wait "the buffer to change" (lambda () (not (equal before (buffer-string)))))
    (setq hf-test-result `((text . ,(buffer-string)) (point . ,(point))))))

(defun hf-test-action ()
  "M-x eglot-code-actions on the comment line; pick Generate; say yes to the edit."
  (hf-test--open)
  (goto-char (point-min))
  (re-search-forward "^# ")
  (let* ((before (buffer-string))
         (last-nonmenu-event ?\r)       ; the command comes from the keyboard, not a menu
         (chosen nil))
    (cl-letf (((symbol-function 'completing-read)
               (lambda (prompt collection &rest _)
                 (let ((titles (mapcar (lambda (c) (if (consp c) (car c) c)) collection)))
                   (push (list prompt (vconcat titles)) hf-test-prompts)
                   (setq chosen (cl-find-if (lambda (title) (string-prefix-p "Generate" title))
                                            titles))
                   (or chosen ""))))
              ((symbol-function 'y-or-n-p)
               (lambda (prompt) (push (list prompt) hf-test-prompts) t))
              ((symbol-function 'yes-or-no-p)
               (lambda (prompt) (push (list prompt) hf-test-prompts) t)))
      (call-interactively #'eglot-code-actions)
      (hf-test--wait "the buffer to change" (lambda () (not (equal before (buffer-string))))))
    (setq hf-test-result `((text . ,(buffer-string)) (chosen . ,chosen)))))

(condition-case err
    (progn
      (funcall (intern (concat "hf-test-" (hf-test--env "HF_LSP_TEST_SCENARIO"))))
      (hf-test--write "ok")
      (ignore-errors (eglot-shutdown (eglot-current-server)))
      (kill-emacs 0))
  (error
   (push `(error . ,(error-message-string err)) hf-test-result)
   (ignore-errors (hf-test--write "error"))
   (kill-emacs 1)))

;;; eglot_driver.el ends here
