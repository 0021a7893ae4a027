-- Issue 23: a narrow filter's exact vector search starts from the clips the filter leaves (clip_facts x). A codec
-- filter read every clip of the height range and dropped the other codecs: ~8 ms of the ~46 ms exact query at
-- 100k clips (codec prores, 2160p, 50 fps: 2,127 clips; the height index alone matched 33k). With the codec first
-- that step takes ~3 ms. One small row per clip: built in well under a second at 100k clips.
CREATE INDEX IF NOT EXISTS clip_facts_codec_height_idx ON clip_facts (codec, height);
