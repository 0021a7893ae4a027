-- A user of a shared catalog runs the pipeline from their own machine (their Dagster storage is local; sql/016):
-- recording the pipeline's step versions replaces the rows of steps that are gone, so users may delete those too.
-- They hold no footage data: which steps exist and their code versions.
GRANT DELETE ON pipeline_versions, pipeline_signature TO catalog_member;
