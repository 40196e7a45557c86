;;; hf-lsp-eglot.el --- hf-lsp with Eglot  -*- lexical-binding: t; -*-

;; Eglot is built into Emacs 29 and later; on Emacs 28 install it as a package (Debian 12:
;; apt-get install elpa-eglot, Eglot 1.9). Start it in a buffer with M-x eglot.
;; Eglot runs one server per major mode: this makes hf-lsp *the* server of these modes (it
;; replaces e.g. pylsp there). For hf-lsp beside another server, use lsp-mode
;; (hf-lsp-lsp-mode.el). Suggestions arrive through completion-at-point (the completion
;; menu of corfu, company or the default *Completions*). Code actions: M-x
;; eglot-code-actions; Eglot asks before it applies the code hf-lsp sends
;; (`eglot-confirm-server-initiated-edits').

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((python-mode python-ts-mode rust-mode rust-ts-mode)
                 . ("hf-lsp"
                    ;; sent with `initialize'; every setting has a default
                    :initializationOptions (:hfLsp (:model "Qwen/Qwen2.5-Coder-7B"))))))

;; Answers hf-lsp's workspace/configuration pull (section "hfLsp"); change it and run
;; M-x eglot-signal-didChangeConfiguration to apply it without a restart.
(setq-default eglot-workspace-configuration
              '(:hfLsp (:model "Qwen/Qwen2.5-Coder-7B"
                        :maxNewTokens (:midLine 24 :endOfLine 64))))

;; The token: hf-lsp reads $HF_TOKEN, else the file `huggingface-cli login' wrote
;; (~/.cache/huggingface/token). Emacs passes its environment on:
;; (setenv "HF_TOKEN_PATH" (expand-file-name "~/.cache/huggingface/token"))

(provide 'hf-lsp-eglot)
;;; hf-lsp-eglot.el ends here
