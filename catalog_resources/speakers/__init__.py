"""Who speaks when: speaker turns per clip from the voice, and the same voice across the catalog."""
