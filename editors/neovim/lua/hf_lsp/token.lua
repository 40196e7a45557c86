-- Store a Hugging Face token where `huggingface-cli login` keeps it, readable by you only.
local M = {}

--- `$HF_TOKEN_PATH`, else `$HF_HOME/token`, else `$XDG_CACHE_HOME/huggingface/token`, else
--- `~/.cache/huggingface/token` (huggingface_hub's order, which hf-lsp reads too).
---@return string
function M.path()
  local env = vim.env
  if env.HF_TOKEN_PATH and env.HF_TOKEN_PATH ~= '' then
    return vim.fs.normalize(env.HF_TOKEN_PATH)
  end
  local home
  if env.HF_HOME and env.HF_HOME ~= '' then
    home = vim.fs.normalize(env.HF_HOME)
  elseif env.XDG_CACHE_HOME and env.XDG_CACHE_HOME ~= '' then
    home = vim.fs.joinpath(vim.fs.normalize(env.XDG_CACHE_HOME), 'huggingface')
  else
    home = vim.fs.joinpath(vim.fs.normalize('~'), '.cache', 'huggingface')
  end
  return vim.fs.joinpath(home, 'token')
end

--- Write the token (stripped) with mode 0600. Returns the path, or nil and an error.
---@param token string
---@return string?, string?
function M.store(token)
  token = vim.trim(token or '')
  if token == '' then
    return nil, 'no token given'
  end
  local path = M.path()
  vim.fn.mkdir(vim.fs.dirname(path), 'p', tonumber('700', 8))
  local mode = tonumber('600', 8)
  local fd, err = vim.uv.fs_open(path, 'w', mode)
  if not fd then
    return nil, err
  end
  -- An existing file keeps its mode on open: tighten it before writing the secret.
  vim.uv.fs_fchmod(fd, mode)
  local ok, werr = vim.uv.fs_write(fd, token)
  vim.uv.fs_close(fd)
  if not ok then
    return nil, werr
  end
  return path
end

return M
