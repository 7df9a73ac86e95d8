"""Compile task graphs into workflows (the only package using jinja2).

``plan`` turns a traced task graph into plain data, a backend renders it into
``{relative path: text}`` (``snakemake.compile_snakemake``; pure, deterministic) and
``writer.write_files`` puts the files on disk.
"""
