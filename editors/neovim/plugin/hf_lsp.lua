-- :HfLsp exists as soon as the plugin is on the runtimepath (status and token work without
-- setup(); ghost text needs require('hf_lsp').setup()).
if vim.g.loaded_hf_lsp then
  return
end
vim.g.loaded_hf_lsp = true
require('hf_lsp.commands').create()
