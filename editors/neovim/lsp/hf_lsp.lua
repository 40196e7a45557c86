-- hf-lsp for Neovim >= 0.11: `vim.lsp.enable('hf_lsp')` finds this file on the runtimepath.
--
-- Override any field with `vim.lsp.config('hf_lsp', { ... })`, for instance
--   vim.lsp.config('hf_lsp', { settings = { hfLsp = { model = 'Qwen/Qwen2.5-Coder-7B' } } })
-- Every setting is listed in docs/configuration.md; the server fills in what is missing.
--
-- Without the plugin in lua/hf_lsp/ (require('hf_lsp').setup()), Neovim 0.11 does not ask for
-- inline completion, so hf-lsp answers `textDocument/completion` instead: the suggestion shows
-- in the completion menu (<C-x><C-o>, or vim.lsp.completion.enable with autotrigger).
-- Neovim >= 0.12 asks for inline completion itself; turn the ghost text on with
-- `vim.lsp.inline_completion.enable()`, or let setup() do it.
---@type vim.lsp.Config
return {
  cmd = { 'hf-lsp' },
  -- No `filetypes`: hf-lsp completes any language, so it attaches to every buffer that has a
  -- filetype and is a file. Set `filetypes = { 'python', 'lua', ... }` to narrow it down.
  root_markers = { '.git', '.hg', '.jj' },
  -- `settings = { hfLsp = { ... } }` reaches the server by `workspace/didChangeConfiguration`
  -- and `workspace/configuration`; changing it later (vim.lsp.config, then
  -- client:notify('workspace/didChangeConfiguration')) takes effect without a restart.
  -- `init_options = { ... }` (the same object) would be sent with `initialize`.
}
