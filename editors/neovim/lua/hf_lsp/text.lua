-- Pure text helpers for suggestions: how much "a word" and "a line" of a suggestion is.
local M = {}

--- Byte length of the next word of `s`: leading blanks, then a run of word characters or a
--- run of other non-blank characters. A suggestion that starts a new line gives the line
--- break and the next line's indent.
---@param s string
---@return integer
function M.word_length(s)
  local nl = s:match('^\r?\n[ \t]*')
  if nl then
    return #nl
  end
  local lead = s:match('^[ \t]*')
  local rest = s:sub(#lead + 1)
  local word = rest:match('^[%w_]+') or rest:match('^[^%w_%s]+') or ''
  if word == '' and rest ~= '' and not rest:match('^[\r\n]') then
    word = rest:sub(1, 1)
  end
  return #lead + #word
end

--- Byte length of the rest of the current line of `s` (without its line break). A suggestion
--- that starts with a line break gives the break and the whole next line.
---@param s string
---@return integer
function M.line_length(s)
  local nl = s:match('^\r?\n')
  if nl then
    local line = s:sub(#nl + 1):match('^[^\n]*')
    return #nl + #line
  end
  return #(s:match('^[^\n]*'))
end

--- Split on line breaks ("\r\n" or "\n").
---@param s string
---@return string[]
function M.lines(s)
  return vim.split(s:gsub('\r\n', '\n'), '\n', { plain = true })
end

--- Tabs to spaces, for virtual lines (which show a tab as one cell otherwise).
---@param s string
---@param tabstop integer
---@return string
function M.expand_tabs(s, tabstop)
  local out, col = {}, 0
  for ch in s:gmatch('.') do
    if ch == '\t' then
      local n = tabstop - (col % tabstop)
      out[#out + 1] = string.rep(' ', n)
      col = col + n
    else
      out[#out + 1] = ch
      col = col + 1
    end
  end
  return table.concat(out)
end

return M
