"""The data between stages: the only code that knows what lies on disk.

Every schema (columns, dtypes, units, Parquet metadata, provenance) is declared
once here, with its reader and writer, so a stage never copies a column list
or a file layout from another stage:

* :mod:`~hipdrive.contracts.files` -- the one atomic writer (mode 0644),
  ``sha256_file``, the ``hipdrive`` provenance metadata of every Parquet file;
* :mod:`~hipdrive.contracts.keypoints` -- per-video keypoints (pose -> analysis);
* :mod:`~hipdrive.contracts.reps` -- per-rep tables, per video and aggregated;
* :mod:`~hipdrive.contracts.curves` -- time-normalised curves, per video and aggregated;
* :mod:`~hipdrive.contracts.manifest` -- the sample sheet;
* :mod:`~hipdrive.contracts.exclusions` -- exclusion records and ``excluded.tsv``;
* :mod:`~hipdrive.contracts.results` -- the statistics tables and their provenance;
* :mod:`~hipdrive.contracts.params` -- defaults of the parameters several rules share.
"""
