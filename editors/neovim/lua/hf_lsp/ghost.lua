-- Ghost text for Neovim 0.11, which has no built-in inline completion: asks hf-lsp for
-- `textDocument/inlineCompletion` as you type (debounced, cancelling the previous ask) and
-- draws the answer as extmark virtual text: the first line inline at the cursor, the rest as
-- virtual lines below.
local config = require('hf_lsp.config')
local text = require('hf_lsp.text')

local api = vim.api
local M = {}

M.ns = api.nvim_create_namespace('hf_lsp.ghost')

local METHOD = 'textDocument/inlineCompletion'
local INVOKED, AUTOMATIC = 1, 2

---@class hf_lsp.Suggestion
---@field text string       the whole insertText
---@field row integer       0-based row of the range start
---@field col integer       byte column of the range start
---@field end_row integer   0-based row of the range end
---@field end_col integer   byte column of the range end

---@class hf_lsp.BufState
---@field client_id integer
---@field timer uv.uv_timer_t?
---@field request_id integer?
---@field pending { row: integer, col: integer, tick: integer }?  where the request was made
---@field items hf_lsp.Suggestion[]
---@field index integer
---@field anchor { row: integer, col: integer, tick: integer }?  where the suggestion was shown
---@field rest string?      what is still to insert, shown as ghost text
---@field extmark integer?

---@type table<integer, hf_lsp.BufState>
local states = {}

--- Whether to ask as you type (`:HfLsp toggle`).
M.auto = nil ---@type boolean?

local function auto_enabled()
  if M.auto == nil then
    return config.options.auto_trigger
  end
  return M.auto
end

local function in_insert()
  return api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

local function cursor()
  local pos = api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

local function tick(bufnr)
  return api.nvim_buf_get_changedtick(bufnr)
end

--- LSP position (in the client's encoding) to a 0-based byte column.
local function byte_col(bufnr, row, character, encoding)
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  if not ok or not col then
    return #line
  end
  return math.min(col, #line)
end

local function stop_timer(state)
  if state.timer then
    state.timer:stop()
    if not state.timer:is_closing() then
      state.timer:close()
    end
    state.timer = nil
  end
end

local function cancel_request(state)
  if state.request_id then
    local client = vim.lsp.get_client_by_id(state.client_id)
    if client then
      client:cancel_request(state.request_id)
    end
    state.request_id = nil
  end
end

--- Remove the ghost text (the suggestion is forgotten).
---@param bufnr integer
function M.clear(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  if api.nvim_buf_is_valid(bufnr) then
    api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
  state.items, state.index, state.anchor, state.rest, state.extmark = {}, 0, nil, nil, nil
end

--- Stop asking: cancel the timer and the request in flight, and remove the ghost text.
---@param bufnr integer
function M.abort(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  stop_timer(state)
  cancel_request(state)
  M.clear(bufnr)
end

local function draw(bufnr, state)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  state.extmark = nil
  local rest = state.rest
  if not rest or rest == '' or not state.anchor then
    return
  end
  local hl = config.options.hl_group
  local lines = text.lines(rest)
  local hint = nil
  if #state.items > 1 then
    hint = { (' (%d/%d)'):format(state.index, #state.items), hl .. 'Hint' }
  end
  local tabstop = vim.bo[bufnr].tabstop
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { text.expand_tabs(lines[i], tabstop), hl } }
  end
  local opts = { hl_mode = 'combine', virt_text_pos = 'inline', right_gravity = false }
  local first = { { text.expand_tabs(lines[1], tabstop), hl } }
  if hint and #virt_lines == 0 then
    first[#first + 1] = hint
  elseif hint then
    table.insert(virt_lines[#virt_lines], hint)
  end
  opts.virt_text = first
  if #virt_lines > 0 then
    opts.virt_lines = virt_lines
  end
  state.extmark = api.nvim_buf_set_extmark(bufnr, M.ns, state.anchor.row, state.anchor.col, opts)
end

--- Show suggestion `index` at the cursor, if it fits what is in the buffer.
local function present(bufnr, state, index)
  local item = state.items[index]
  if not item then
    return false
  end
  local row, col = cursor()
  if item.row ~= row or item.col > col then
    return false
  end
  -- The range may start before the cursor (a server replacing the word typed so far): the
  -- part already typed is not shown again.
  local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  local typed = line:sub(item.col + 1, col)
  if item.text:sub(1, #typed) ~= typed then
    return false
  end
  state.index = index
  state.rest = item.text:sub(#typed + 1)
  state.anchor = { row = row, col = col, tick = tick(bufnr) }
  draw(bufnr, state)
  return state.rest ~= ''
end

local function on_result(bufnr, request_id, err, result, client)
  local state = states[bufnr]
  if not state or state.request_id ~= request_id then
    return -- a newer request replaced this one
  end
  state.request_id = nil
  if err or not result then
    return
  end
  local ctx = state.pending
  state.pending = nil
  if not ctx or not api.nvim_buf_is_valid(bufnr) or api.nvim_get_current_buf() ~= bufnr then
    return
  end
  local row, col = cursor()
  if not in_insert() or tick(bufnr) ~= ctx.tick or row ~= ctx.row or col ~= ctx.col then
    return -- typed on since: the answer is for text that is gone
  end
  local items = {}
  for _, raw in ipairs(result.items or result) do
    local insert = raw.insertText
    if type(insert) == 'table' then
      insert = insert.value -- a snippet: shown and inserted as plain text
    end
    if type(insert) == 'string' and insert ~= '' then
      local item = { text = insert, row = row, col = col, end_row = row, end_col = col }
      if type(raw.range) == 'table' then
        local s, e = raw.range.start, raw.range['end']
        local enc = client.offset_encoding
        item.row, item.col = s.line, byte_col(bufnr, s.line, s.character, enc)
        item.end_row, item.end_col = e.line, byte_col(bufnr, e.line, e.character, enc)
      end
      items[#items + 1] = item
    end
  end
  M.clear(bufnr)
  state.items = items
  for i = 1, #items do
    if present(bufnr, state, i) then
      return
    end
  end
  M.clear(bufnr)
end

--- Ask hf-lsp now for the cursor position of the current buffer.
---@param bufnr integer
---@param kind integer
local function request(bufnr, kind)
  local state = states[bufnr]
  if not state or api.nvim_get_current_buf() ~= bufnr or not in_insert() then
    return
  end
  local client = vim.lsp.get_client_by_id(state.client_id)
  if not client then
    return
  end
  cancel_request(state)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.context = { triggerKind = kind }
  local row, col = cursor()
  state.pending = { row = row, col = col, tick = tick(bufnr) }
  local request_id
  local ok, id = client:request(METHOD, params, function(err, result)
    vim.schedule(function()
      on_result(bufnr, request_id, err, result, client)
    end)
  end, bufnr)
  if ok then
    request_id = id
    state.request_id = id
  end
end

--- Ask after `debounce_ms` of quiet; a newer call restarts the wait.
---@param bufnr integer
---@param kind integer?
function M.schedule(bufnr, kind)
  local state = states[bufnr]
  if not state then
    return
  end
  stop_timer(state)
  cancel_request(state)
  local timer = assert(vim.uv.new_timer())
  state.timer = timer
  timer:start(config.options.debounce_ms, 0, function()
    vim.schedule(function()
      if state.timer == timer then
        stop_timer(state)
        request(bufnr, kind or AUTOMATIC)
      end
    end)
  end)
end

--- The ghost text is still where it was drawn and the buffer unchanged.
---@param bufnr integer?
function M.visible(bufnr)
  bufnr = bufnr or api.nvim_get_current_buf()
  local state = states[bufnr]
  if not state or not state.anchor or not state.rest or state.rest == '' then
    return false
  end
  local row, col = cursor()
  return api.nvim_get_current_buf() == bufnr
    and state.anchor.row == row
    and state.anchor.col == col
    and state.anchor.tick == tick(bufnr)
end

--- After a change: keep the ghost text when the user typed what it suggested, else drop it.
local function on_text_changed(bufnr)
  local state = states[bufnr]
  if not state then
    return
  end
  if state.anchor and state.rest and state.anchor.tick ~= tick(bufnr) then
    local row, col = cursor()
    local line = api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
    local typed = row == state.anchor.row and col > state.anchor.col
      and line:sub(state.anchor.col + 1, col)
    if typed and state.rest:sub(1, #typed) == typed and #typed < #state.rest then
      state.rest = state.rest:sub(#typed + 1)
      state.anchor = { row = row, col = col, tick = tick(bufnr) }
      draw(bufnr, state)
    else
      M.clear(bufnr)
    end
  end
  if auto_enabled() then
    M.schedule(bufnr)
  end
end

local function on_cursor_moved(bufnr)
  local state = states[bufnr]
  if not state or not state.anchor then
    return
  end
  local row, col = cursor()
  if state.anchor.tick == tick(bufnr) and (row ~= state.anchor.row or col ~= state.anchor.col) then
    M.abort(bufnr) -- moved without typing
  end
end

--- Insert the suggestion, or its next word or line, and put the cursor after it.
---@param how 'all'|'word'|'line'
---@return boolean accepted
function M.accept(how)
  local bufnr = api.nvim_get_current_buf()
  if not M.visible(bufnr) then
    return false
  end
  local state = states[bufnr]
  local item = state.items[state.index]
  local rest = state.rest
  local n = #rest
  if how == 'word' then
    n = text.word_length(rest)
  elseif how == 'line' then
    n = text.line_length(rest)
  end
  if n <= 0 then
    return false
  end
  local row, col = state.anchor.row, state.anchor.col
  local lines
  local start_row, start_col, end_row, end_col
  if n >= #rest then
    -- All of it: replace the item's range (it ends at or after the cursor) with its text.
    lines = text.lines(item.text)
    start_row, start_col = item.row, item.col
    end_row, end_col = item.end_row, math.max(item.end_col, item.end_row == row and col or 0)
    if end_row < row or (end_row == row and end_col < col) then
      end_row, end_col = row, col
    end
  else
    lines = text.lines(rest:sub(1, n))
    start_row, start_col, end_row, end_col = row, col, row, col
  end
  stop_timer(state)
  cancel_request(state)
  api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  api.nvim_buf_set_text(bufnr, start_row, start_col, end_row, end_col, lines)
  local new_row = start_row + #lines - 1
  local new_col = (#lines == 1 and start_col or 0) + #lines[#lines]
  api.nvim_win_set_cursor(0, { new_row + 1, new_col })
  if n < #rest then
    -- Partly accepted: the rest stays on screen, anchored at the new cursor.
    state.rest = rest:sub(n + 1)
    state.anchor = { row = new_row, col = new_col, tick = tick(bufnr) }
    -- The item now starts at the new cursor.
    item.text, item.row, item.col = state.rest, new_row, new_col
    item.end_row, item.end_col = new_row, new_col
    draw(bufnr, state)
  else
    M.clear(bufnr)
  end
  return true
end

---@return boolean dismissed
function M.dismiss()
  local bufnr = api.nvim_get_current_buf()
  local had = M.visible(bufnr)
  M.abort(bufnr)
  return had
end

--- Show the next (1) or previous (-1) suggestion.
---@param step integer
---@return boolean
function M.cycle(step)
  local bufnr = api.nvim_get_current_buf()
  if not M.visible(bufnr) then
    return false
  end
  local state = states[bufnr]
  local n = #state.items
  for k = 1, n do
    local index = (state.index - 1 + step * k) % n + 1
    if present(bufnr, state, index) then
      return true
    end
  end
  return true
end

--- Ask now, whatever auto_trigger says.
---@return boolean
function M.suggest()
  local bufnr = api.nvim_get_current_buf()
  if not states[bufnr] then
    return false
  end
  stop_timer(states[bufnr])
  request(bufnr, INVOKED)
  return true
end

--- Set auto-suggest on or off (nil: flip it). Returns the new value.
---@param on boolean?
function M.set_auto(on)
  if on == nil then
    on = not auto_enabled()
  end
  M.auto = on
  if not on then
    for bufnr in pairs(states) do
      M.abort(bufnr)
    end
  end
  return on
end

function M.auto_enabled()
  return auto_enabled()
end

---@param bufnr integer
function M.detach(bufnr)
  if states[bufnr] then
    M.abort(bufnr)
    pcall(api.nvim_del_augroup_by_name, 'hf_lsp.ghost.' .. bufnr)
    states[bufnr] = nil
  end
end

---@param bufnr integer
---@param client vim.lsp.Client
function M.attach(bufnr, client)
  if states[bufnr] then
    states[bufnr].client_id = client.id
    return
  end
  states[bufnr] = { client_id = client.id, items = {}, index = 0 }
  local group = api.nvim_create_augroup('hf_lsp.ghost.' .. bufnr, { clear = true })
  local function on(events, fn)
    api.nvim_create_autocmd(events, {
      group = group,
      buffer = bufnr,
      callback = function()
        fn(bufnr)
      end,
    })
  end
  on('TextChangedI', on_text_changed)
  on('TextChangedP', on_text_changed)
  on('CursorMovedI', on_cursor_moved)
  on('InsertEnter', function(b)
    if auto_enabled() and config.options.trigger_on_insert_enter then
      M.schedule(b)
    end
  end)
  on({ 'InsertLeave', 'BufLeave', 'TextChanged' }, M.abort)
  on('ModeChanged', function(b)
    local old, new = vim.v.event.old_mode or '', vim.v.event.new_mode or ''
    if old:sub(1, 1) == 'i' and new:sub(1, 1) ~= 'i' then
      M.abort(b) -- <C-o>, <C-\><C-n>, ...: no longer typing
    end
  end)
  on('BufUnload', M.detach)
  api.nvim_create_autocmd('LspDetach', {
    group = group,
    buffer = bufnr,
    callback = function(args)
      if args.data and args.data.client_id == states[bufnr].client_id then
        M.detach(bufnr)
      end
    end,
  })
end

--- For tests and :HfLsp status: the suggestion shown in a buffer.
function M.state(bufnr)
  return states[bufnr or api.nvim_get_current_buf()]
end

return M
