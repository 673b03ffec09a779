//! Plume-mode output files: CSV and CF-NetCDF.
