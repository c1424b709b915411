"""benchbed-text2sql: text-to-SQL benchmarks with sandboxed, test-suite execution accuracy."""
