"""Templates of the files the workflow backends write, one folder per backend.

``snakemake/``: the Snakefile, its profiles and README that `smttask export-snakemake` writes.
Shipped inside the wheel as package data of ``smttask.templates``; read them with
``importlib.resources.files("smttask.templates")``.
"""
