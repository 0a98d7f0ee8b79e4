"""The demo contact center: a scripted day on a virtual clock (``script``) and a live synthetic
center that drives the running service (``center``). Drivers of the engine, like ``sim/``."""
