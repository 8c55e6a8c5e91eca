"""The language server for policy files (`payerpolicy lsp`, the optional extra `lsp`)."""
