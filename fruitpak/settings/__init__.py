"""Settings profiles: prod (the default), dev (`make run`) and test (pytest)."""
