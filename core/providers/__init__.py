"""Provider adapters, one module per wire protocol; `registry` picks one per config."""
