-- hf_lsp: hf-lsp in Neovim >= 0.11 (language server config, ghost text, :HfLsp).
--
--   require('hf_lsp').setup({ settings = { model = 'Qwen/Qwen2.5-Coder-7B' } })
--
-- The server config itself lives in lsp/hf_lsp.lua; setup() adds the ghost text, the keys and
-- the inline completion capability on top of it.
local config = require('hf_lsp.config')

local M = {}

M.name = 'hf_lsp'

--- Whether the built-in inline completion (Neovim >= 0.12) is used.
function M.native()
  local opt = config.options.native
  if opt == false then
    return false
  end
  return vim.lsp.inline_completion ~= nil and vim.lsp.inline_completion.enable ~= nil
end

--- The suggestion engine in use: the built-in one or lua/hf_lsp/ghost.lua.
function M.engine()
  if M.native() then
    return require('hf_lsp.native')
  end
  return require('hf_lsp.ghost')
end

--- The hf-lsp client attached to a buffer, if any.
---@param bufnr integer?
---@return vim.lsp.Client?
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ bufnr = bufnr or 0, name = M.name })
  return clients[1]
end

---@param opts table?
function M.setup(opts)
  local options = config.set(opts)

  local lsp_config = {}
  if options.cmd then
    lsp_config.cmd = options.cmd
  end
  if options.filetypes then
    lsp_config.filetypes = options.filetypes
  end
  if options.settings then
    lsp_config.settings = { hfLsp = options.settings }
  end
  if options.ghost_text then
    -- Tells hf-lsp this client shows inline completions, so it does not also fill the
    -- completion menu with the same suggestion. (An empty table would be sent as [].)
    lsp_config.capabilities = {
      textDocument = { inlineCompletion = { dynamicRegistration = false } },
    }
  end
  if next(lsp_config) then
    vim.lsp.config(M.name, lsp_config)
  end

  vim.api.nvim_set_hl(0, options.hl_group, { link = 'Comment', default = true })
  vim.api.nvim_set_hl(0, options.hl_group .. 'Hint', { link = 'NonText', default = true })

  local group = vim.api.nvim_create_augroup('hf_lsp.setup', { clear = true })
  if options.ghost_text then
    vim.api.nvim_create_autocmd('LspAttach', {
      group = group,
      desc = 'hf-lsp ghost text and keys',
      callback = function(args)
        local client = vim.lsp.get_client_by_id(args.data.client_id)
        if client and client.name == M.name then
          M.engine().attach(args.buf, client)
          require('hf_lsp.keymaps').attach(args.buf, M.engine())
        end
      end,
    })
    -- Buffers that attached before setup() ran.
    for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
      for bufnr in pairs(client.attached_buffers) do
        M.engine().attach(bufnr, client)
        require('hf_lsp.keymaps').attach(bufnr, M.engine())
      end
    end
  end

  require('hf_lsp.commands').create()
  require('hf_lsp.actions').register()
  if options.enable then
    vim.lsp.enable(M.name)
  end
end

-- The actions, for your own mappings. Each returns true when it did something.
function M.visible()
  return M.engine().visible()
end
function M.accept()
  return M.engine().accept('all')
end
function M.accept_word()
  return M.engine().accept('word')
end
function M.accept_line()
  return M.engine().accept('line')
end
function M.dismiss()
  return M.engine().dismiss()
end
function M.next()
  return M.engine().cycle(1)
end
function M.prev()
  return M.engine().cycle(-1)
end
function M.suggest()
  return M.engine().suggest()
end

return M
