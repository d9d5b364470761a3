"""The HTTP boundary of the sync API: DRF function views with knox tokens. Thin: parse, authorize, call
one function of sbsync.sync, render."""
