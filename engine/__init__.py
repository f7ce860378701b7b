"""ZVH Regie engine: process versions, instances, inbox projection, timers and the script sandbox.

Nothing in this package imports Flask: the web app, the CLI and the background jobs all call into it.
"""
