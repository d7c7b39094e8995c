"""Data preparation: processing jobs now; flows, insights and the catalog later."""
