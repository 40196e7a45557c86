;;; hf-lsp-lsp-mode.el --- hf-lsp with lsp-mode  -*- lexical-binding: t; -*-

;; hf-lsp as an add-on server: it runs beside the mode's usual server (pyright,
;; rust-analyzer, ...) in every buffer where lsp-mode starts. Suggestions arrive in the
;; completion menu (completion-at-point / company / corfu); lsp-mode 9.0.1 and later can also
;; show them as ghost text with M-x lsp-inline-completion-display (RET accepts, C-g cancels).

(with-eval-after-load 'lsp-mode
  ;; The hfLsp section, answered to workspace/configuration; every setting has a default.
  (lsp-register-custom-settings
   '(("hfLsp.model" "Qwen/Qwen2.5-Coder-7B")
     ("hfLsp.maxNewTokens.midLine" 24)
     ("hfLsp.maxNewTokens.endOfLine" 64)))

  (lsp-register-client
   (make-lsp-client
    :new-connection (lsp-stdio-connection '("hf-lsp"))
    :activation-fn (lambda (_file-name _mode) t)
    :add-on? t
    :priority -2
    :server-id 'hf-lsp
    :initialized-fn
    (lambda (workspace)
      (with-lsp-workspace workspace
        (lsp--set-configuration (lsp-configuration-section "hfLsp")))))))

;; The token: hf-lsp reads $HF_TOKEN, else the file `huggingface-cli login' wrote
;; (~/.cache/huggingface/token).

(provide 'hf-lsp-lsp-mode)
;;; hf-lsp-lsp-mode.el ends here
