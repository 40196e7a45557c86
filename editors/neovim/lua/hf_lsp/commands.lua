-- :HfLsp status | toggle | token
local api = vim.api
local M = {}

local function hf_lsp()
  return require('hf_lsp')
end

local function echo(lines, hl)
  local chunks = {}
  for i, line in ipairs(lines) do
    chunks[#chunks + 1] = { line .. (i < #lines and '\n' or ''), hl }
  end
  api.nvim_echo(chunks, true, {})
end

local STATUS_ORDER = {
  'version', 'backend', 'model', 'provider', 'endpoint', 'tokenSource', 'requests', 'backendCalls',
  'cacheHits', 'cacheEntries', 'skipped', 'errors', 'lastError', 'lastMaxNewTokens',
  'lastLatencyMs', 'latencyP50Ms', 'rateLimited', 'dropped', 'slowRequests', 'spend', 'costUsd',
  'documents',
}

local ROUTE_WORDS = { raw = 'fill-in-the-middle', ['hf-inference'] = 'serverless API', chat = 'chat' }

--- The Inference Provider in use: "featherless-ai (fill-in-the-middle, model …), POST url".
---@param p table
---@return string
local function format_provider(p)
  local parts = {}
  if type(p.kind) == 'string' then
    parts[#parts + 1] = ROUTE_WORDS[p.kind] or p.kind
  end
  if type(p.model) == 'string' then
    parts[#parts + 1] = 'model ' .. p.model
  end
  local text = tostring(p.name or '?')
  if #parts > 0 then
    text = text .. ' (' .. table.concat(parts, ', ') .. ')'
  end
  if type(p.url) == 'string' then
    text = text .. ', POST ' .. p.url
  end
  return text
end

--- The `hfLsp/status` figures as "name: value" lines, known ones first.
---@param figures table
---@return string[]
function M.format_status(figures)
  local lines, seen = {}, {}
  local function add(key)
    local value = figures[key]
    if value == nil or value == vim.NIL then
      value = '-'
    elseif key == 'provider' and type(value) == 'table' then
      value = format_provider(value)
    elseif type(value) == 'table' then
      value = vim.json.encode(value)
    end
    lines[#lines + 1] = ('%-17s %s'):format(key .. ':', tostring(value))
    seen[key] = true
  end
  for _, key in ipairs(STATUS_ORDER) do
    if figures[key] ~= nil then
      add(key)
    end
  end
  local rest = vim.tbl_filter(function(k)
    return not seen[k]
  end, vim.tbl_keys(figures))
  table.sort(rest)
  for _, key in ipairs(rest) do
    add(key)
  end
  return lines
end

function M.status()
  local client = hf_lsp().client(0) or vim.lsp.get_clients({ name = hf_lsp().name })[1]
  if not client then
    echo({ 'hf-lsp is not running for this buffer' }, 'WarningMsg')
    return
  end
  local response = client:request_sync('hfLsp/status', vim.empty_dict(), 5000, 0)
  if not response or response.err then
    local why = response and response.err and response.err.message or 'no answer'
    echo({ 'hf-lsp status: ' .. why }, 'ErrorMsg')
    return
  end
  local lines = M.format_status(response.result or {})
  local engine = hf_lsp().engine()
  table.insert(lines, 1, 'hf-lsp (client ' .. client.id .. ')')
  lines[#lines + 1] = ('%-17s %s'):format('autoSuggest:', tostring(engine.auto_enabled()))
  lines[#lines + 1] = ('%-17s %s'):format(
    'ghostText:',
    hf_lsp().native() and 'built-in (vim.lsp.inline_completion)' or 'hf_lsp plugin'
  )
  echo(lines)
end

function M.toggle()
  local on = hf_lsp().engine().set_auto()
  echo({ 'hf-lsp auto-suggest ' .. (on and 'on' or 'off') })
end

--- Ask for the token without echoing it, store it, and tell running servers to re-read it.
function M.token()
  local token = vim.fn.inputsecret('Hugging Face token (hf_...): ')
  if token == nil or vim.trim(token) == '' then
    echo({ 'hf-lsp: no token stored' }, 'WarningMsg')
    return
  end
  local path, err = require('hf_lsp.token').store(token)
  if not path then
    echo({ 'hf-lsp: cannot store the token: ' .. tostring(err) }, 'ErrorMsg')
    return
  end
  -- Any settings change makes hf-lsp look for the token again.
  for _, client in ipairs(vim.lsp.get_clients({ name = hf_lsp().name })) do
    client:notify('workspace/didChangeConfiguration', {
      settings = next(client.settings or {}) and client.settings or vim.empty_dict(),
    })
  end
  local lines = { 'hf-lsp: token stored in ' .. path }
  if (vim.env.HF_TOKEN or '') ~= '' or (vim.env.HUGGING_FACE_HUB_TOKEN or '') ~= '' then
    lines[#lines + 1] = '$HF_TOKEN or $HUGGING_FACE_HUB_TOKEN is set and comes first'
  end
  echo(lines)
end

local SUBCOMMANDS = { status = M.status, toggle = M.toggle, token = M.token }

function M.run(args)
  local name = args.fargs[1] or 'status'
  local fn = SUBCOMMANDS[name]
  if not fn then
    echo({ 'HfLsp: unknown subcommand ' .. name .. ' (status, toggle, token)' }, 'ErrorMsg')
    return
  end
  fn()
end

function M.create()
  api.nvim_create_user_command('HfLsp', M.run, {
    nargs = '?',
    desc = 'hf-lsp: status | toggle | token',
    complete = function(lead)
      return vim.tbl_filter(function(s)
        return vim.startswith(s, lead)
      end, vim.tbl_keys(SUBCOMMANDS))
    end,
  })
end

return M
