"""A hand-written relevance set for clip search: 31 clip documents and the queries that should find them.

Each document is what the catalog knows about one clip after analysis: an English summary and keywords (what
the AI analysis writes), the transcript in the language spoken (two are German, two Spanish), the text read
on screen, and technical facts from probing. The archive is deliberately lumpy, as real ones are: two drone
coastlines, two slow-motion sports clips, two interviews in offices, two night-time city clips, two cooking
clips, so that a query has near misses to beat.

Query kinds:
- "paraphrase": describes the clip's content in words that its document does not use (checked by
  ``shared_words`` below, stop words aside), so only meaning can match;
- "spoken": words said in the clip's transcript, or their English translation (marked ``cross_lingual``);
  a query in another language than English says so in ``query_language``;
- "keyword": a few terms as a person types them into a search box;
- "filtered": the text alone is ambiguous between near duplicates; ``filter`` names the technical condition
  that decides (``{"codec": "prores"}``, ``{"min_fps": 50}``, ``{"min_height": 2160}``, ``{"shot_type": ...}``).
  A plain semantic search ignores the filter, so these measure how often it is needed.

Plain data: nothing here touches the database or a model.
"""

from __future__ import annotations

import re

CLIPS: list[dict] = [
    {
        "clip_id": "int-ceo-solar",
        "summary": "Interview with the chief executive of a solar panel manufacturer, seated in a glass-walled office, "
        "about opening a second factory.",
        "keywords": ["interview", "CEO", "solar panels", "factory", "business", "office"],
        "transcript": "We are doubling production next year. The new plant in Ohio will employ about four hundred "
        "people. Demand from utilities has simply outpaced what one line can build.",
        "on_screen_text": "Maria Okafor — CEO, Helios Panels",
        "technical": {"codec": "h264", "fps": 25, "height": 1080, "shot_type": "medium close-up"},
    },
    {
        "clip_id": "int-nurse-nightshift",
        "summary": "Interview with a hospital nurse in a staff room after a night shift, talking about staffing "
        "shortages.",
        "keywords": ["interview", "nurse", "hospital", "healthcare", "night shift"],
        "transcript": "By four in the morning there were two of us for thirty patients. You stop taking breaks. "
        "I love this job, but nobody can keep that pace for years.",
        "on_screen_text": "Daniel Reyes, Registered Nurse",
        "technical": {"codec": "h264", "fps": 25, "height": 1080, "shot_type": "close-up"},
    },
    {
        "clip_id": "int-winemaker-de",
        "summary": "A winemaker speaks to camera between rows of vines on a steep slope above a river.",
        "keywords": ["interview", "winemaker", "vineyard", "Mosel", "Germany", "agriculture"],
        "transcript": "Der Spätfrost im April hat fast die Hälfte der Trauben vernichtet. Wir haben nachts Feuer "
        "zwischen den Reihen gemacht, aber es war zu kalt. Dieses Jahr wird es nur sehr wenig Riesling geben.",
        "on_screen_text": "Klaus Berger, Winzer",
        "technical": {"codec": "prores", "fps": 25, "height": 2160, "shot_type": "medium shot"},
    },
    {
        "clip_id": "int-engineer-de",
        "summary": "An engineer explains a wind turbine maintenance job inside the nacelle.",
        "keywords": ["interview", "wind turbine", "engineer", "renewable energy", "maintenance"],
        "transcript": "Hier oben wechseln wir alle zwei Jahre das Getriebeöl. Bei Windstärke sechs dürfen wir "
        "nicht mehr hinaufsteigen. Die Aussicht über die Nordsee ist aber jedes Mal großartig.",
        "on_screen_text": "Windpark Nordsee Ost",
        "technical": {"codec": "h264", "fps": 30, "height": 1080, "shot_type": "close-up"},
    },
    {
        "clip_id": "vox-taco-vendor-es",
        "summary": "A street food vendor in Mexico City slices meat from a vertical spit and talks to customers.",
        "keywords": ["street food", "tacos al pastor", "Mexico City", "vendor", "market"],
        "transcript": "El secreto está en el adobo: chile guajillo, achiote y un poco de piña. Lo dejamos "
        "marinar toda la noche. Aquí vendemos más de mil tacos cada sábado.",
        "on_screen_text": "Taquería El Güero",
        "technical": {"codec": "h264", "fps": 30, "height": 1080, "shot_type": "medium shot"},
    },
    {
        "clip_id": "evt-fiesta-es",
        "summary": "Night parade with giant papier-mâché figures and brass band through a narrow old-town street "
        "in Spain.",
        "keywords": ["festival", "parade", "Spain", "brass band", "giants", "crowd"],
        "transcript": "¡Que vivan las fiestas! Los gigantes salen cada año desde hace más de dos siglos. Mi "
        "abuelo ya bailaba con esta figura cuando era joven.",
        "on_screen_text": "Fiestas de San Fermín",
        "technical": {"codec": "hevc", "fps": 25, "height": 2160, "shot_type": "wide shot"},
    },
    {
        "clip_id": "aer-coast-cliffs-4k",
        "summary": "Drone flight along rugged sea cliffs at golden hour, waves breaking white against the rocks below.",
        "keywords": ["drone", "aerial", "coastline", "cliffs", "ocean", "golden hour"],
        "transcript": "Okay, I'm bringing it down to forty metres. Watch the gusts near the edge.",
        "on_screen_text": "",
        "technical": {"codec": "prores", "fps": 25, "height": 2160, "shot_type": "aerial"},
    },
    {
        "clip_id": "aer-coast-lighthouse-hd",
        "summary": "Drone orbit around a white lighthouse on a rocky coastline, surf rolling in below.",
        "keywords": ["drone", "aerial", "coastline", "lighthouse", "ocean", "rocks"],
        "transcript": "Battery at forty percent, one more orbit and we land.",
        "on_screen_text": "",
        "technical": {"codec": "h264", "fps": 60, "height": 1080, "shot_type": "aerial"},
    },
    {
        "clip_id": "aer-alps-ski",
        "summary": "Drone pass over a snow-covered mountain ridge with chairlifts and skiers on the slopes.",
        "keywords": ["drone", "aerial", "mountains", "snow", "ski resort", "winter"],
        "transcript": "The lifts open at eight; we have about ten minutes before the first skiers arrive.",
        "on_screen_text": "",
        "technical": {"codec": "hevc", "fps": 30, "height": 2160, "shot_type": "aerial"},
    },
    {
        "clip_id": "city-night-timelapse",
        "summary": "Time-lapse of a downtown intersection at night, car headlights and tail lights drawing streaks "
        "between office towers.",
        "keywords": ["time-lapse", "city", "night", "traffic", "light trails", "skyline"],
        "transcript": "Interval is two seconds, we'll run it for an hour.",
        "on_screen_text": "",
        "technical": {"codec": "hevc", "fps": 25, "height": 2160, "shot_type": "wide shot"},
    },
    {
        "clip_id": "city-night-alley",
        "summary": "Handheld walk through a narrow alley lit by neon signs in Tokyo, wet pavement reflecting the signs.",
        "keywords": ["city", "night", "neon", "Tokyo", "street", "rain"],
        "transcript": "Irasshaimase! Two beers, please. It smells amazing in here.",
        "on_screen_text": "居酒屋 とりまる",
        "technical": {"codec": "h264", "fps": 24, "height": 1080, "shot_type": "tracking shot"},
    },
    {
        "clip_id": "spt-soccer-goal",
        "summary": "Amateur football match: a midfielder scores from a free kick and the home fans celebrate.",
        "keywords": ["football", "soccer", "goal", "free kick", "fans", "stadium"],
        "transcript": "He steps up, he curls it over the wall and into the top corner! What a strike! The keeper "
        "never moved.",
        "on_screen_text": "FC Linden 2 - 1 SV Hafen 78'",
        "technical": {"codec": "h264", "fps": 50, "height": 1080, "shot_type": "wide shot"},
    },
    {
        "clip_id": "spt-dunk-slowmo",
        "summary": "Slow-motion close view of a basketball player dunking on an outdoor court.",
        "keywords": ["basketball", "dunk", "slow motion", "streetball", "athlete"],
        "transcript": "Again, again, one more time from the left side!",
        "on_screen_text": "",
        "technical": {"codec": "hevc", "fps": 120, "height": 1080, "shot_type": "close-up"},
    },
    {
        "clip_id": "spt-skate-realtime",
        "summary": "Skateboarder grinding a handrail and landing a kickflip in a concrete skatepark.",
        "keywords": ["skateboarding", "skatepark", "kickflip", "grind", "youth"],
        "transcript": "Yes! First try! Did you get that?",
        "on_screen_text": "",
        "technical": {"codec": "h264", "fps": 25, "height": 1080, "shot_type": "tracking shot"},
    },
    {
        "clip_id": "spt-skate-slowmo",
        "summary": "Skateboarder flying out of a concrete bowl, filmed at a high frame rate for slow motion.",
        "keywords": ["skateboarding", "skatepark", "bowl", "slow motion", "air"],
        "transcript": "Drop in whenever you're ready, I'm rolling.",
        "on_screen_text": "",
        "technical": {"codec": "prores", "fps": 100, "height": 1080, "shot_type": "wide shot"},
    },
    {
        "clip_id": "spt-marathon-finish",
        "summary": "Runners crossing the finish line of a city marathon under an inflatable arch, volunteers "
        "handing out medals.",
        "keywords": ["marathon", "running", "finish line", "medals", "race"],
        "transcript": "Here comes number four-oh-seven, just under three hours! Give her a big hand, everybody!",
        "on_screen_text": "FINISH — Lakeside Marathon 2024",
        "technical": {"codec": "h264", "fps": 50, "height": 2160, "shot_type": "wide shot"},
    },
    {
        "clip_id": "evt-wedding-vows",
        "summary": "Bride and groom exchanging vows under an arch of flowers in a garden, guests seated on "
        "wooden chairs.",
        "keywords": ["wedding", "ceremony", "vows", "bride", "groom", "garden"],
        "transcript": "I promise to laugh with you, to hold you when it's hard, and to always save you the last "
        "slice of pizza.",
        "on_screen_text": "",
        "technical": {"codec": "h264", "fps": 24, "height": 2160, "shot_type": "medium shot"},
    },
    {
        "clip_id": "evt-concert-crowd",
        "summary": "Rock band on an open-air festival stage with pyrotechnics, thousands of fans with hands in the air.",
        "keywords": ["concert", "festival", "rock band", "crowd", "stage lights", "music"],
        "transcript": "Thank you, Berlin! This next one is for everyone who drove all night to be here!",
        "on_screen_text": "",
        "technical": {"codec": "hevc", "fps": 50, "height": 2160, "shot_type": "wide shot"},
    },
    {
        "clip_id": "evt-climate-rally",
        "summary": "Thousands of students march past city hall carrying placards demanding climate action.",
        "keywords": ["protest", "demonstration", "climate", "students", "march", "placards"],
        "transcript": "What do we want? Climate justice! When do we want it? Now! There is no planet B.",
        "on_screen_text": "THERE IS NO PLANET B",
        "technical": {"codec": "h264", "fps": 30, "height": 1080, "shot_type": "wide shot"},
    },
    {
        "clip_id": "news-mayor-flood-presser",
        "summary": "The mayor gives a press conference at a podium about flood damage and evacuation orders.",
        "keywords": ["press conference", "mayor", "flood", "evacuation", "emergency", "politics"],
        "transcript": "As of this morning, twelve hundred homes are without power. The evacuation order for the "
        "river district stays in place until the water recedes.",
        "on_screen_text": "LIVE — Mayor Janet Cole on flood response",
        "technical": {"codec": "h264", "fps": 30, "height": 1080, "shot_type": "medium shot"},
    },
    {
        "clip_id": "news-flooded-streets",
        "summary": "Flooded residential streets after heavy rain, cars submerged to the windows, a rescue boat "
        "passing houses.",
        "keywords": ["flood", "storm", "rescue", "disaster", "weather"],
        "transcript": "Anyone still inside? Wave if you need help! We'll come back for the dog.",
        "on_screen_text": "",
        "technical": {"codec": "h264", "fps": 30, "height": 1080, "shot_type": "wide shot"},
    },
    {
        "clip_id": "talk-vector-search",
        "summary": "Conference talk on stage: a speaker presents approximate nearest-neighbour indexes for vector "
        "databases.",
        "keywords": ["conference", "talk", "vector search", "HNSW", "database", "engineering"],
        "transcript": "HNSW gives you logarithmic search, but the graph has to fit in memory. Beyond a billion "
        "vectors we switch to product quantization and keep only the codes in RAM.",
        "on_screen_text": "Scaling Vector Search to a Billion Embeddings",
        "technical": {"codec": "h264", "fps": 30, "height": 1080, "shot_type": "medium shot"},
    },
    {
        "clip_id": "talk-keynote-launch",
        "summary": "Keynote in a large auditorium where a presenter reveals a new electric pickup truck on stage.",
        "keywords": ["keynote", "product launch", "electric vehicle", "truck", "auditorium"],
        "transcript": "Five hundred miles on a single charge. Zero to sixty in four seconds. And it starts at "
        "fifty-nine thousand dollars.",
        "on_screen_text": "Volt R1 — Available Spring",
        "technical": {"codec": "prores", "fps": 25, "height": 2160, "shot_type": "wide shot"},
    },
    {
        "clip_id": "demo-headphones",
        "summary": "Studio product demo of noise-cancelling headphones on a turntable, presenter showing the "
        "touch controls.",
        "keywords": ["product demo", "headphones", "noise cancelling", "consumer electronics", "studio"],
        "transcript": "Swipe up on the right ear cup to raise the volume. Battery lasts forty hours, and five "
        "minutes of charging gives you another three.",
        "on_screen_text": "40h battery · ANC",
        "technical": {"codec": "h264", "fps": 30, "height": 2160, "shot_type": "close-up"},
    },
    {
        "clip_id": "demo-robot-vacuum",
        "summary": "A robot vacuum cleaner maps a living room, avoids a sock and returns to its dock.",
        "keywords": ["product demo", "robot vacuum", "smart home", "cleaning"],
        "transcript": "It builds a map on the first run. See how it steers around the sock instead of eating it? "
        "When the bin is full it empties itself at the dock.",
        "on_screen_text": "LiDAR mapping",
        "technical": {"codec": "h264", "fps": 30, "height": 1080, "shot_type": "overhead"},
    },
    {
        "clip_id": "food-fresh-pasta",
        "summary": "Chef kneads dough and cuts fresh tagliatelle by hand on a wooden board, overhead view.",
        "keywords": ["cooking", "pasta", "chef", "Italian food", "kitchen", "dough"],
        "transcript": "One hundred grams of flour for every egg, that's all. Knead it until it feels like an "
        "earlobe, then let it rest for half an hour.",
        "on_screen_text": "",
        "technical": {"codec": "prores", "fps": 25, "height": 1080, "shot_type": "overhead"},
    },
    {
        "clip_id": "food-bbq-brisket",
        "summary": "Pitmaster opens a smoker in a backyard and slices a beef brisket with a dark bark.",
        "keywords": ["barbecue", "brisket", "smoker", "grilling", "meat", "outdoor cooking"],
        "transcript": "Fourteen hours over post oak at two twenty-five. Look at that smoke ring. You want it to "
        "jiggle when you poke it.",
        "on_screen_text": "",
        "technical": {"codec": "h264", "fps": 30, "height": 2160, "shot_type": "close-up"},
    },
    {
        "clip_id": "nat-forest-woodpecker",
        "summary": "Misty beech forest at dawn; a woodpecker drums on a dead trunk, birdsong all around.",
        "keywords": ["nature", "forest", "woodpecker", "birds", "dawn", "wildlife"],
        "transcript": "Hear that drumming? Great spotted woodpecker, about twenty metres to the left. Keep very "
        "still.",
        "on_screen_text": "",
        "technical": {"codec": "hevc", "fps": 25, "height": 2160, "shot_type": "static"},
    },
    {
        "clip_id": "nat-reef-turtle",
        "summary": "Underwater: a green sea turtle glides over a coral reef while schools of small fish scatter.",
        "keywords": ["underwater", "sea turtle", "coral reef", "diving", "marine life", "ocean"],
        "transcript": "Narrator: Green turtles can hold their breath for hours while they rest. This reef is one "
        "of the few where their numbers are growing.",
        "on_screen_text": "",
        "technical": {"codec": "h264", "fps": 60, "height": 2160, "shot_type": "tracking shot"},
    },
    {
        "clip_id": "brl-factory-robots",
        "summary": "Industrial robot arms weld car bodies on an automotive assembly line, sparks flying.",
        "keywords": ["factory", "manufacturing", "robots", "welding", "automotive", "b-roll"],
        "transcript": "Line three runs sixty bodies an hour. The robots do every weld; people only check the seams.",
        "on_screen_text": "",
        "technical": {"codec": "prores", "fps": 50, "height": 2160, "shot_type": "medium shot"},
    },
    {
        "clip_id": "brl-open-office",
        "summary": "Employees typing at laptops in a bright open-plan office, a team meeting at a whiteboard in the "
        "background.",
        "keywords": ["office", "workplace", "team", "laptops", "corporate", "b-roll"],
        "transcript": "Can we move the standup to ten? The client call ran long.",
        "on_screen_text": "Q3 ROADMAP",
        "technical": {"codec": "h264", "fps": 25, "height": 1080, "shot_type": "wide shot"},
    },
]

QUERIES: list[dict] = [
    # --- paraphrase: meaning only, no content word shared with the clip's document
    {"query": "boss of a photovoltaic company talks about expanding output", "expected": "int-ceo-solar",
     "kind": "paraphrase"},
    {"query": "exhausted caregiver describes understaffed wards", "expected": "int-nurse-nightshift",
     "kind": "paraphrase"},
    {"query": "shelled reptile paddling above bright polyps", "expected": "nat-reef-turtle",
     "kind": "paraphrase"},
    {"query": "self-operating mechanical limbs fusing metal vehicle frames", "expected": "brl-factory-robots",
     "kind": "paraphrase"},
    {"query": "couple getting married outdoors", "expected": "evt-wedding-vows", "kind": "paraphrase"},
    {"query": "teenagers rallying against global warming", "expected": "evt-climate-rally",
     "kind": "paraphrase"},
    {"query": "homemade noodles prepared from scratch", "expected": "food-fresh-pasta", "kind": "paraphrase"},
    {"query": "autonomous floor sweeping gadget", "expected": "demo-robot-vacuum", "kind": "paraphrase"},
    {"query": "huge audience at an outdoor gig with fireworks", "expected": "evt-concert-crowd",
     "kind": "paraphrase"},
    {"query": "leaping hoops star slams the ball through the rim", "expected": "spt-dunk-slowmo",
     "kind": "paraphrase"},
    {"query": "grape grower standing on a hillside above a valley", "expected": "int-winemaker-de",
     "kind": "paraphrase"},
    {"query": "technician servicing a windmill high above the sea", "expected": "int-engineer-de",
     "kind": "paraphrase"},
    {"query": "neighbourhood under water after a downpour, people saved by a dinghy",
     "expected": "news-flooded-streets", "kind": "paraphrase"},
    # --- spoken: what was said (the last two translated: the clip's speech is German / Spanish)
    {"query": "he curls it over the wall into the top corner", "expected": "spt-soccer-goal", "kind": "spoken"},
    {"query": "beyond a billion vectors we switch to product quantization", "expected": "talk-vector-search",
     "kind": "spoken"},
    {"query": "always save you the last slice of pizza", "expected": "evt-wedding-vows", "kind": "spoken"},
    {"query": "Spätfrost hat die Hälfte der Trauben vernichtet", "expected": "int-winemaker-de", "kind": "spoken",
     "query_language": "de"},
    {"query": "the late frost in April destroyed half the grapes", "expected": "int-winemaker-de",
     "kind": "spoken", "cross_lingual": True},
    {"query": "the secret is in the marinade with pineapple", "expected": "vox-taco-vendor-es", "kind": "spoken",
     "cross_lingual": True},
    {"query": "twelve hundred homes are without power", "expected": "news-mayor-flood-presser",
     "kind": "spoken"},
    {"query": "five hundred miles on a single charge", "expected": "talk-keynote-launch", "kind": "spoken"},
    {"query": "two of us for thirty patients", "expected": "int-nurse-nightshift", "kind": "spoken"},
    {"query": "mi abuelo bailaba con esta figura", "expected": "evt-fiesta-es", "kind": "spoken",
     "query_language": "es"},
    {"query": "we change the gearbox oil every two years", "expected": "int-engineer-de", "kind": "spoken",
     "cross_lingual": True},
    {"query": "the giants have come out every year for over two centuries", "expected": "evt-fiesta-es",
     "kind": "spoken", "cross_lingual": True},
    {"query": "we sell more than a thousand tacos every Saturday", "expected": "vox-taco-vendor-es",
     "kind": "spoken", "cross_lingual": True},
    # --- keyword: search-box terms
    {"query": "lighthouse drone", "expected": "aer-coast-lighthouse-hd", "kind": "keyword"},
    {"query": "HNSW conference talk", "expected": "talk-vector-search", "kind": "keyword"},
    {"query": "woodpecker forest", "expected": "nat-forest-woodpecker", "kind": "keyword"},
    {"query": "tacos Mexico City", "expected": "vox-taco-vendor-es", "kind": "keyword"},
    {"query": "mayor press conference flood", "expected": "news-mayor-flood-presser", "kind": "keyword"},
    {"query": "brisket smoker", "expected": "food-bbq-brisket", "kind": "keyword"},
    {"query": "sea turtle", "expected": "nat-reef-turtle", "kind": "keyword"},
    {"query": "robot vacuum dock", "expected": "demo-robot-vacuum", "kind": "keyword"},
    {"query": "neon Tokyo alley", "expected": "city-night-alley", "kind": "keyword"},
    {"query": "marathon finish line medals", "expected": "spt-marathon-finish", "kind": "keyword"},
    {"query": "noise cancelling headphones", "expected": "demo-headphones", "kind": "keyword"},
    # --- filtered: the text matches two near duplicates; the technical filter decides
    {"query": "drone shot of the coastline", "expected": "aer-coast-cliffs-4k", "kind": "filtered",
     "filter": {"codec": "prores"}},
    {"query": "aerial coast footage", "expected": "aer-coast-lighthouse-hd", "kind": "filtered",
     "filter": {"min_fps": 50}},
    {"query": "skateboarding in a skatepark", "expected": "spt-skate-slowmo", "kind": "filtered",
     "filter": {"min_fps": 100}},
    {"query": "city streets at night", "expected": "city-night-timelapse", "kind": "filtered",
     "filter": {"min_height": 2160}},
    {"query": "interview in an office", "expected": "int-nurse-nightshift", "kind": "filtered",
     "filter": {"shot_type": "close-up"}},
    {"query": "cooking food", "expected": "food-bbq-brisket", "kind": "filtered", "filter": {"codec": "h264"}},
    {"query": "slow-motion sports footage", "expected": "spt-dunk-slowmo", "kind": "filtered",
     "filter": {"min_fps": 120}},
    {"query": "interview", "expected": "int-winemaker-de", "kind": "filtered", "filter": {"codec": "prores"}},
    {"query": "product demo", "expected": "demo-robot-vacuum", "kind": "filtered",
     "filter": {"shot_type": "overhead"}},
    {"query": "drone footage", "expected": "aer-alps-ski", "kind": "filtered",
     "filter": {"min_height": 2160, "codec": "hevc"}},
]

# Absent subjects: nothing any clip above shows, says or is tagged with, phrased as people type (some as "clips
# mentioning ..."). Search must answer them with no hits; bench/relevance.py measures the cut-off on them.
ABSENT_QUERIES: list[dict] = [{"query": q, "kind": "absent"} for q in (
    "giraffes grazing on the savanna",
    "clips mentioning a bank robbery",
    "ice hockey players fighting on the rink",
    "astronaut floating outside the space station",
    "violin recital in a cathedral",
    "volcano erupting with lava flows",
    "footage of a chess tournament",
    "jockeys on horseback at a racetrack",
    "dentist examining teeth",
    "clips about knitting a wool sweater",
    "camel caravan crossing desert dunes",
    "a toddler's birthday party with balloons and cake",
    "lattice quantum chromodynamics gauge theory",
    "clips mentioning a stock market crash",
    "penguins on an ice floe",
)]

KINDS = ("paraphrase", "spoken", "keyword", "filtered")

STOP_WORDS = frozenset(
    "a an and are as at be by for from he her his i in into is it its of on or she that the their they this to "
    "up was we with you your about over above all after one two".split()
)


def is_multilingual(query: dict) -> bool:
    """The query, or the speech it has to match, is not English: what an English-only model cannot do."""
    return bool(query.get("cross_lingual")) or query.get("query_language", "en") != "en"


def words(text: str) -> set[str]:
    """Lower-case word set, for checking that paraphrases really share no content word with their clip."""
    return {w for w in re.findall(r"\w+", text.lower()) if w not in STOP_WORDS}


def clip_words(clip: dict) -> set[str]:
    tech = clip["technical"]
    text = " ".join(
        [clip["summary"], " ".join(clip["keywords"]), clip["transcript"], clip["on_screen_text"], tech["codec"],
         tech["shot_type"]]
    )
    return words(text)


def shared_words(query: dict) -> set[str]:
    """Content words a query has in common with its expected clip (should be empty for paraphrases)."""
    clip = next(c for c in CLIPS if c["clip_id"] == query["expected"])
    return words(query["query"]) & clip_words(clip)
