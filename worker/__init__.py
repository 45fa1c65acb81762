"""The worker process: the single owner of run execution and run/batch status.

It polls the store, claims queued runs atomically, executes them (a dry run,
or a normal run of the recipe agent) and streams events back. It never serves
HTTP; the API never executes runs.
"""
