"""FHIR R4 export and ingest: the product's data in the hospital's language.

Maps resources to the same round values the form produces and reads the
same stored results the pages read; ingest writes through the one write
path (``patients.recording``).
"""
