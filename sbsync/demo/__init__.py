"""The runnable demo site: one project that installs sbsync, plus an example app (shop)."""
