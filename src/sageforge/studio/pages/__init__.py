"""Studio's pages, one module per section; each exposes `router`."""
