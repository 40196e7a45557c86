-- hf-lsp's code actions run as the server command hfLsp.runAction. "Rewrite the selection…"
-- needs an instruction: this client-side handler asks for it with vim.ui.input first.
local M = {}

M.command = 'hfLsp.runAction'

local function blank(text)
  return type(text) ~= 'string' or vim.trim(text) == ''
end

--- Whether the command is a rewrite still missing its instruction.
function M.needs_instruction(command)
  local arg = command.arguments and command.arguments[1]
  return type(arg) == 'table' and arg.action == 'rewrite' and blank(arg.instruction)
end

--- Send the command to the server, asking for the instruction first when it needs one.
--- `deps` replaces the client lookup and vim.ui.input (for tests).
---@param command lsp.Command
---@param ctx table  { client_id, bufnr }
---@param deps table?
function M.run(command, ctx, deps)
  deps = deps or {}
  local client = (deps.get_client or vim.lsp.get_client_by_id)(ctx.client_id)
  if not client then
    return
  end
  local function send(arguments)
    -- a request, not client:exec_cmd(): that would come back to this handler
    client:request('workspace/executeCommand', {
      command = command.command,
      arguments = arguments,
    }, nil, ctx.bufnr)
  end
  if not M.needs_instruction(command) then
    send(command.arguments)
    return
  end
  local input = deps.input or vim.ui.input
  input({ prompt = 'Rewrite the selection: ' }, function(text)
    if blank(text) then
      return -- cancelled: nothing is sent
    end
    local arg = vim.deepcopy(command.arguments[1])
    arg.instruction = vim.trim(text)
    local arguments = vim.list_extend({ arg }, command.arguments, 2)
    send(arguments)
  end)
end

function M.register()
  vim.lsp.commands[M.command] = M.run
end

return M
