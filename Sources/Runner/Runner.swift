// `Runner`: see ../../shared/DESIGN.md for this module's job.
