"""Timelines for editing software (EDL, FCPXML, OTIO) made from catalog clips and search hits."""
