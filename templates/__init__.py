"""Templates of the files `smttask export-snakemake` writes (Snakefile, profiles, README).

Shipped inside the wheel as package data of ``smttask.templates``; read them with
``importlib.resources.files("smttask.templates")``.
"""
