"""People across footage: face vectors (dlib ResNet, 5-point landmarks), face tracks within a clip, and the
catalog-wide clustering of tracks into people. Plain Python: no Dagster; SQL is in store/people.py."""
