"""The embedded suite: the Tansu broker and all five services under one supervisor.

``make run`` → ``python -m libs.launcher run``. supervisord (the process-supervision library)
runs, in the foreground: the broker wrapper, the five service processes and an event
listener that restarts the services whenever the broker restarts (the embedded broker keeps
nothing across its own restart, and a Faust worker that was connected to it hangs).
"""
