"""A county in a box: a seeded simulator that drives the suite through its public interfaces."""
