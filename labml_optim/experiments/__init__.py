"""Experiments: runs that test what the papers claim, one page per experiment.

Each module is a chapter of the site (group "Experiments"). `_common` holds the plumbing they
share: the command line, the results file and its schema, the progress bar and the data.
"""
