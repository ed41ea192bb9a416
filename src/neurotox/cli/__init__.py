"""Command-line interface (click). Commands are thin: parse, call the library, write."""
