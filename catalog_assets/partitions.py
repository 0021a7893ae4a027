"""Each clip is one dynamic partition; its key is the clip id (the content fingerprint)."""

from dagster import DynamicPartitionsDefinition

clips_partitions = DynamicPartitionsDefinition(name="clips")
