"""`make bench`: bake the defaults, load them on loopback and print one table of figures."""
