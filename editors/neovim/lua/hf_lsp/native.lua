-- Ghost text on Neovim >= 0.12 through the built-in vim.lsp.inline_completion; the same
-- functions as hf_lsp.ghost, so the keys and :HfLsp work the same on both.
local config = require('hf_lsp.config')
local text = require('hf_lsp.text')

local api = vim.api
local M = {}

M.auto = nil ---@type boolean?
local attached = {} ---@type table<integer, integer> bufnr -> client id

local function ic()
  return vim.lsp.inline_completion
end

function M.auto_enabled()
  if M.auto == nil then
    return config.options.auto_trigger
  end
  return M.auto
end

function M.visible(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local ns = api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  if not ns then
    return false
  end
  return #api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { limit = 1 }) > 0
end

--- Insert `n` bytes of the item's text that follow the cursor.
local function insert_part(item, how)
  local insert = item.insert_text
  if type(insert) ~= 'string' then
    return false
  end
  local bufnr = api.nvim_get_current_buf()
  local row, col = unpack(api.nvim_win_get_cursor(0))
  row = row - 1
  local rest = insert
  if item.range and item.range.start and item.range.start.row == row then
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
    local typed = line:sub(item.range.start.col + 1, col)
    if insert:sub(1, #typed) == typed then
      rest = insert:sub(#typed + 1)
    end
  end
  local n = how == 'word' and text.word_length(rest) or text.line_length(rest)
  local lines = text.lines(rest:sub(1, n))
  api.nvim_buf_set_text(bufnr, row, col, row, col, lines)
  api.nvim_win_set_cursor(0, { row + #lines, (#lines == 1 and col or 0) + #lines[#lines] })
  return true
end

---@param how 'all'|'word'|'line'
function M.accept(how)
  if not M.visible() then
    return false
  end
  if how == 'all' then
    return ic().get()
  end
  return ic().get({
    on_accept = function(item)
      insert_part(item, how)
    end,
  })
end

function M.dismiss()
  if not M.visible() then
    return false
  end
  -- No public "dismiss" yet: turning it off and on for the buffer drops the shown item.
  local bufnr = api.nvim_get_current_buf()
  ic().enable(false, { bufnr = bufnr })
  ic().enable(true, { bufnr = bufnr })
  return true
end

function M.cycle(step)
  if not M.visible() then
    return false
  end
  ic().select({ count = step })
  return true
end

function M.suggest()
  -- The built-in engine asks on every cursor move in insert mode; nothing to force.
  return M.visible()
end

function M.set_auto(on)
  if on == nil then
    on = not M.auto_enabled()
  end
  M.auto = on
  for bufnr in pairs(attached) do
    if api.nvim_buf_is_valid(bufnr) then
      ic().enable(on, { bufnr = bufnr })
    end
  end
  return on
end

function M.attach(bufnr, client)
  attached[bufnr] = client.id
  if M.auto_enabled() then
    ic().enable(true, { bufnr = bufnr })
  end
end

function M.state()
  return nil
end

return M
