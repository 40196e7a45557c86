-- hf_lsp options: the defaults, and the options in force after setup().
local M = {}

M.defaults = {
  -- Passed to vim.lsp.config('hf_lsp', ...) on top of lsp/hf_lsp.lua; nil keeps that file's.
  cmd = nil, ---@type string[]?
  filetypes = nil, ---@type string[]?
  -- The hfLsp settings (docs/configuration.md), e.g. { model = 'Qwen/Qwen2.5-Coder-7B' }.
  settings = nil, ---@type table?
  -- Call vim.lsp.enable('hf_lsp'). Set false to start it yourself.
  enable = true,
  -- Ghost text: true, or false for the completion menu only (no inline capability advertised).
  ghost_text = true,
  -- Neovim >= 0.12: use the built-in vim.lsp.inline_completion ('auto'), or always this
  -- plugin's own ghost text (false).
  native = 'auto', ---@type 'auto'|boolean
  -- Ask for a suggestion as you type (`:HfLsp toggle` flips it); off: only the `suggest` key.
  auto_trigger = true,
  -- Also ask when entering insert mode (o, A, ...), not only after a change.
  trigger_on_insert_enter = true,
  -- Milliseconds of quiet typing before asking; every new keystroke cancels the previous ask.
  debounce_ms = 150,
  -- Insert-mode keys. A key does its own job (or your mapping's) when no suggestion is shown.
  -- Set a key to false to leave it unmapped.
  keymaps = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-C-Right>',
    dismiss = '<C-]>',
    next = '<M-]>',
    prev = '<M-[>',
    suggest = '<M-\\>',
  },
  -- Highlight of the ghost text (linked to Comment unless you define it).
  hl_group = 'HfLspSuggestion',
}

M.options = vim.deepcopy(M.defaults)

--- Merge user options over the defaults.
---@param opts table?
function M.set(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  return M.options
end

return M
