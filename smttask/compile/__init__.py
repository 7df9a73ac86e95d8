"""Compile task graphs into workflows (the only package using jinja2).

``plan`` turns a traced task graph into plain data (jobs, task types, batches), a backend
(``backend.get_backend(name)``; ``snakemake`` ships with smttask) renders it into
``{relative path: text}`` (pure, deterministic) and ``writer.write_files`` puts the files on
disk.
"""
