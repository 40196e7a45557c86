-- Insert-mode keys for the suggestion. A key acts only while a suggestion is shown; otherwise
-- it falls through to what it did before: your buffer-local or global mapping of that key
-- (looked up when the key is pressed), or the key's own behaviour. <Tab> is never swallowed.
local config = require('hf_lsp.config')

local api = vim.api
local M = {}

local ACTIONS = {
  accept = function(engine)
    return engine.accept('all')
  end,
  accept_word = function(engine)
    return engine.accept('word')
  end,
  accept_line = function(engine)
    return engine.accept('line')
  end,
  dismiss = function(engine)
    return engine.dismiss()
  end,
  next = function(engine)
    return engine.cycle(1)
  end,
  prev = function(engine)
    return engine.cycle(-1)
  end,
  suggest = function(engine)
    return engine.suggest()
  end,
}

local DESCRIPTIONS = {
  accept = 'hf-lsp: accept the suggestion',
  accept_word = 'hf-lsp: accept the next word of the suggestion',
  accept_line = 'hf-lsp: accept the next line of the suggestion',
  dismiss = 'hf-lsp: dismiss the suggestion',
  next = 'hf-lsp: next suggestion',
  prev = 'hf-lsp: previous suggestion',
  suggest = 'hf-lsp: ask for a suggestion now',
}

local function normalize(lhs)
  return vim.fn.keytrans(vim.keycode(lhs))
end

local function feed(keys, remap)
  -- 'i': in front of the typeahead, so keys typed after this one keep their order.
  api.nvim_feedkeys(keys, remap and 'im' or 'in', false)
end

--- Run a mapping as Neovim would have, had ours not been there.
---@param map table  a maparg() / nvim_get_keymap() dictionary
local function run_mapping(map)
  local remap = map.noremap ~= 1
  local keys
  if map.callback then
    if map.expr == 1 then
      keys = map.callback()
    else
      map.callback()
      return
    end
  elseif map.expr == 1 then
    keys = vim.fn.eval(map.rhs)
  else
    keys = vim.keycode(map.rhs)
  end
  if type(keys) ~= 'string' or keys == '' then
    return
  end
  if map.expr == 1 and map.replace_keycodes == 1 then
    keys = vim.keycode(keys)
  end
  feed(keys, remap)
end

local function global_mapping(lhs)
  local want = normalize(lhs)
  for _, map in ipairs(api.nvim_get_keymap('i')) do
    if normalize(map.lhs) == want then
      return map
    end
  end
end

--- What the key does without hf-lsp.
---@param lhs string
---@param saved table? the buffer-local mapping ours replaced
function M.fallback(lhs, saved)
  local map = saved or global_mapping(lhs)
  if map then
    run_mapping(map)
  else
    feed(vim.keycode(lhs), false)
  end
end

--- Map the configured keys in one buffer.
---@param bufnr integer
---@param engine table  hf_lsp.ghost or hf_lsp.native
function M.attach(bufnr, engine)
  if vim.b[bufnr].hf_lsp_keymaps then
    return
  end
  vim.b[bufnr].hf_lsp_keymaps = true
  for name, lhs in pairs(config.options.keymaps or {}) do
    local action = ACTIONS[name]
    if lhs and action then
      local saved = nil
      api.nvim_buf_call(bufnr, function()
        local map = vim.fn.maparg(lhs, 'i', false, true)
        if map.buffer == 1 then
          saved = map
        end
      end)
      vim.keymap.set('i', lhs, function()
        if not action(engine) then
          M.fallback(lhs, saved)
        end
      end, { buffer = bufnr, silent = true, desc = DESCRIPTIONS[name] })
    end
  end
end

return M
