# ruff: noqa: E501  (long lines are paragraphs of test text)
"""Formulaic news that is no copy: a statement quoted as a block, another instance of a template, shared data lines
(docs/detection.md, "Formulaic news"). Every text here is fictional and written for these tests."""

from __future__ import annotations

from monitor import match, text
from monitor.config import MatchSettings
from monitor.match import AlignParams, Prepared, align, compare

CFG = MatchSettings()


def run(article: str, page: str):
    return compare(Prepared.of(article), Prepared.of(page), CFG)


# -- a statement quoted as a block, without quotation marks ---------------------------------------------------------

STATEMENT = ("We are sorry for the disruption this will cause to families across the valley. Routine tests at our "
             "Keld Lane works found coliform bacteria in treated water late on Tuesday evening. Customers should boil "
             "all water used for drinking, cooking and brushing teeth, and let it cool before use. Water that has not "
             "been boiled is still safe for washing, bathing and flushing toilets. We will write to every household "
             "as soon as the notice is lifted.")

BOIL_NOTICE = f"""Boil water notice for 30,000 homes in Marrowby after bacteria found at treatment works

Around 30,000 households in Marrowby and the surrounding villages have been told to boil their tap water after routine tests found bacteria at the Keld Lane treatment works.

Tarn Valley Water said the notice would stay in place until at least Friday, and that bottled water would be handed out at three collection points from 2pm on Wednesday.

In a statement, the company's operations director, Helen Ashby, said:

{STATEMENT}

Marrowby Primary School and Keld Academy both said they would stay open, with staff bringing in bottled water for pupils. The town's two care homes have been given priority deliveries.

Councillor Tom Reyes, who represents Marrowby on the county council, said residents deserved an explanation. "People need to know how this happened and how long it has been going on," he said.

The Keld Lane works, which supplies about a third of the valley, was upgraded in 2019 at a cost of £14 million. The Drinking Water Regulator said it had been informed and would investigate."""

# Another outlet's story with its own angle that carries the same statement under its own lead-in.
CAFE_STORY = f"""Marrowby cafes turn to bottled water as boil notice bites

Cafe owners in Marrowby spent Wednesday morning queueing at collection points for bottled water after a boil notice was issued for the town.

Jess Morland, who runs the Copper Kettle on Bridge Street, said she had bought forty litres of water before opening. "We cannot make a cup of tea without it, so we had no choice," she said.

Tarn Valley Water said in a statement on Wednesday morning:

{STATEMENT}

Several businesses on Market Street put up signs saying they could only serve bottled drinks. The Marrowby Chamber of Trade said it would ask the company about compensation for lost takings.

Bottled water is being handed out at the leisure centre, the library car park and St Anne's church hall."""


def test_a_statement_quoted_as_a_block_by_both_is_not_a_copy():
    """Both stories paste the company's five-sentence statement as a paragraph after a lead-in ("said:"), as a
    blockquote reads once extracted: quotation, though unmarked. It made a verbatim run of five narrative sentences
    (a copy, coverage 0.3, before this rule)."""
    assert run(BOIL_NOTICE, CAFE_STORY) is None
    assert run(CAFE_STORY, BOIL_NOTICE) is None


def test_a_block_counts_as_quotation_in_the_shares_and_a_copy_is_still_a_copy():
    m = run(BOIL_NOTICE, BOIL_NOTICE.replace("Boil water notice for", "Notice:"))
    assert m is not None and m.kind == "verbatim" and m.coverage > 0.95
    partial = "\n\n".join(BOIL_NOTICE.split("\n\n")[:5])  # the opening and the statement: raw 0.43 of the article
    m = run(BOIL_NOTICE, partial + "\n\nOther news: the Marrowby regatta is cancelled this year.")
    assert m is not None and m.weighted_coverage > m.coverage


def test_a_lead_in_and_the_paragraph_after_it():
    assert text.is_lead_in("In a statement, the company's operations director, Helen Ashby, said:")
    assert text.is_lead_in("Tarn Valley Water said in a statement on Wednesday morning:")
    assert text.is_lead_in("The notice reads:")
    assert not text.is_lead_in("The full result was:")  # no verb of saying: a table follows, not a quotation
    assert not text.is_lead_in("BY THE PRESIDENT OF THE UNITED STATES:")
    assert not text.is_lead_in("He said the result was clear.")
    page = "Intro line.\n\nThe company said:\n\nA block of words. Another one.\n\nThe writer's own paragraph."
    (a, b), = text.block_quote_spans(page)
    assert page[a:b] == "A block of words. Another one."  # one paragraph: where a block ends is not marked
    quoted = [t.word for t in text.tokens(page) if t.quoted]
    assert quoted == ["a", "block", "of", "words", "another", "one"]
    # The lead-in line itself is no narrative sentence: who speaks is not what the writer tells.
    prepared = Prepared.of(page)
    assert [prepared.lead_in(k) for k in range(5)] == [False, True, False, False, False]


def test_a_copy_dressed_as_block_quotes_is_still_a_copy():
    """A copier who puts a lead-in before every copied paragraph, or the whole article after one, would hide it if
    every block counted as quotation; blocks that make up half a text or more are not read as quotation."""
    head, *body = BOIL_NOTICE.split("\n\n")
    every = head + "\n\n" + "\n\n".join(f"The company added:\n\n{p}" for p in body)
    one = head + "\n\nThe Marrowby Gazette reported:\n\n" + " ".join(body)
    assert text.block_quote_spans(every) == [] and text.block_quote_spans(one) == []
    for page in (every, one):
        m = run(BOIL_NOTICE, page)
        assert m is not None and m.coverage > 0.9


def test_a_copy_with_every_paragraph_in_quotation_marks_is_still_a_copy():
    """A copier who puts each copied paragraph in quotation marks: on a page that is mostly quotation, only the
    article's own quotes are quotes (the rest of the page quotes the article's narrative, which is copying it)."""
    head, *body = BOIL_NOTICE.split("\n\n")
    wrapped = head + "\n\n" + "\n\n".join(f"“{p}”" for p in body)
    m = run(BOIL_NOTICE, wrapped)
    assert m is not None and m.coverage > 0.9
    # A page of its own that quotes the same statement is still no copy, mostly quotation or not.
    assert run(BOIL_NOTICE, CAFE_STORY.replace(STATEMENT, f"“{STATEMENT}”")) is None


# -- another instance of a template ---------------------------------------------------------------------------------

def planning(homes: int, site: str, village: str, votes: str, day: str, ref: str, submitted: str, objections: int,
             support: int, developer: str, schools: str, surgery: str, affordable: int, pct: int, start: str,
             months: int) -> str:
    """A local news robot's report of a planning decision (a fictional template)."""
    return f"""Planning committee approves {homes} homes on {site} site in {village}

The Ashdale District Council planning committee voted {votes} on {day} to approve an application for {homes} homes on land at {site}, {village}.

The application, reference {ref}, was submitted on {submitted} and received {objections} objections and {support} letters of support.

The developer, {developer}, will pay £{schools} towards school places and £{surgery} towards the {village} surgery.

Of the {homes} homes, {affordable} will be affordable, {pct} per cent of the total.

Work is expected to start in {start} and take {months} months.

This story was produced automatically from the council's published planning decisions."""


BROOK_FARM = planning(42, "Brook Farm", "Wetherden", "7 to 2", "Tuesday", "24/0815/FUL", "3 March", 118, 6,
                      "Greyfield Homes", "310,000", "85,000", 14, 35, "spring 2025", 18)
MILL_LANE = planning(18, "Mill Lane", "Oakhurst", "6 to 3", "Monday", "24/1102/OUT", "12 May", 47, 2,
                     "Hallam Estates", "96,000", "20,000", 5, 28, "autumn 2025", 11)


def test_another_instance_of_a_template_is_not_a_copy():
    """Same frames, other figures: each sentence pair shares most of its words and none or few of its numbers. It
    was a copy (every frame a narrative pair) before numbers were compared."""
    assert run(BROOK_FARM, MILL_LANE) is None
    assert run(MILL_LANE, BROOK_FARM) is None


# Two tutorials of one blogger's house style: the same intro frame reworded, the same step headings and the same
# systemd boilerplate, about other software.
PHOTO_SYNC = """How I Sync My Photo Library to a Second Disk with rsync and a systemd Timer

For years my idea of keeping photos safe was copying a folder to a spare drive whenever I felt guilty, which was rarely and always too late. Last autumn a corrupted memory card finally frightened me into doing it properly. This guide walks through the setup I use on my home server: rsync for the copying, a second disk as the mirror, and a systemd timer so that nothing depends on my memory.

It assumes a Debian or Ubuntu machine with the mirror disk mounted at /mnt/mirror. Adjust paths to taste.

Step 1: Install rsync

rsync is in the standard repositories, so this is the easy part:

    sudo apt update
    sudo apt install rsync
    rsync --version

Step 2: Try a first sync by hand

Run the copy once yourself before you automate it, and read what it prints:

    sudo rsync -a --delete /srv/photos/ /mnt/mirror/photos/

The trailing slashes matter. Without the one after photos, rsync creates a nested folder and you end up with two copies of everything.

Step 3: Write the service and the timer

Create /etc/systemd/system/photo-sync.service:

    [Unit]
    Description=Mirror the photo library

    [Service]
    Type=oneshot
    ExecStart=/usr/bin/rsync -a --delete /srv/photos/ /mnt/mirror/photos/

And /etc/systemd/system/photo-sync.timer:

    [Unit]
    Description=Mirror the photo library every night

    [Timer]
    OnCalendar=*-*-* 03:15:00
    Persistent=true

    [Install]
    WantedBy=timers.target

Persistent=true matters on a machine that is sometimes switched off, because a missed run happens at the next boot instead of being skipped.

Step 4: Enable it

    sudo systemctl daemon-reload
    sudo systemctl enable --now photo-sync.timer
    systemctl list-timers

Step 5: Check that it really works

A mirror you have never looked at is a hope, not a backup. Once a month I open a few random albums on the mirror disk and make sure the pictures open. Which brings me to my last tip: read journalctl -u photo-sync now and then, because a timer that fails quietly is worse than no timer at all."""

CERT_RENEW = """How I Renew My Home Server's TLS Certificates with acme.sh and a systemd Timer

For a long time my approach to certificates was waiting for a browser warning and then fixing things in a panic, which happened more often than I like to admit. Last winter an expired certificate on my sister's bakery site finally pushed me into doing it properly. This guide walks through the setup I run on my small web server: acme.sh for the certificates, nginx in front, and a systemd timer so that renewal never depends on me.

It assumes a Debian or Ubuntu machine with nginx already serving example.net. Adjust names to taste.

Step 1: Install acme.sh

acme.sh is a single shell script, installed for the root user:

    sudo apt update
    sudo apt install socat curl
    curl https://get.acme.sh | sudo sh -s email=me@example.net

Step 2: Issue the first certificate

    sudo acme.sh --issue --nginx -d example.net -d www.example.net

It asks nginx to answer the challenge and writes the certificate under /root/.acme.sh. Point the server block at those files and reload nginx.

Step 3: Write the service and the timer

Create /etc/systemd/system/acme-renew.service:

    [Unit]
    Description=Renew TLS certificates

    [Service]
    Type=oneshot
    ExecStart=/root/.acme.sh/acme.sh --cron --home /root/.acme.sh

And /etc/systemd/system/acme-renew.timer:

    [Unit]
    Description=Renew TLS certificates twice a day

    [Timer]
    OnCalendar=*-*-* 04,16:00:00
    Persistent=true

    [Install]
    WantedBy=timers.target

The script renews only certificates within thirty days of expiry, so running it twice a day costs nothing.

Step 4: Enable it

    sudo systemctl daemon-reload
    sudo systemctl enable --now acme-renew.timer
    systemctl list-timers

Step 5: Check that it really works

A renewal you have never watched succeed is a hope, not a plan. Which brings me to my last tip: read journalctl -u acme-renew after the first few runs, because a timer that fails quietly only tells you ninety days later."""


def test_another_tutorial_in_the_same_house_style_is_not_a_copy():
    """Their step headings, config lines ("WantedBy=timers.target") and "Create /etc/...:" labels are subheadings:
    two texts of one template share them, and they are no narrative. Before, they made a paraphrase of 22% (a blind
    corpus's false alarm, session 22)."""
    assert run(PHOTO_SYNC, CERT_RENEW) is None
    assert run(CERT_RENEW, PHOTO_SYNC) is None


def test_a_tutorial_excerpt_with_its_subheadings_is_still_a_copy():
    start, end = PHOTO_SYNC.index("Step 2: Try"), PHOTO_SYNC.index("Step 4: Enable")
    page = ("Weekend projects: three things I automated this month\n\nI have been moving chores off my to-do list and "
            "onto my home server. This month it was photos, the router config and the thermostat logs. The photo part I "
            "lifted from a guide I found online, because it was clearer than anything I could write.\n\n"
            + PHOTO_SYNC[start:end] + "\nThe router config is simpler: a nightly scp to the same disk.\n")
    m = run(PHOTO_SYNC, page)
    assert m is not None and m.kind == "partial"


def test_subheadings_are_the_headings_below_the_first_prose_sentence():
    p = Prepared.of("Kicker\n\nThe headline of it all\n\nA first sentence of prose. A second.\n\nStep 1: Install it\n\n"
                    "Then a third sentence.")
    assert [s.start for s in p.sentences] and [p.subheading(k) for k in range(len(p.sentences))] == [
        False, False, False, False, True, False]


def test_a_copy_keeps_its_numbers_in_other_formats():
    """A copier or spinner keeps the figures; written another way they are the same numbers."""
    spun = (BROOK_FARM.replace("£310,000", "£310k").replace("7 to 2", "seven votes to two")
            .replace("voted", "backed by").replace("received", "drew").replace("18 months", "eighteen months")
            .replace("Of the 42 homes, 14", "Fourteen of the 42 houses"))
    m = run(BROOK_FARM, spun)
    assert m is not None and m.coverage > 0.8


def test_numbers_are_compared_in_any_format():
    assert text.numbers("at 7.15am") == text.numbers("at 7:15") == {"7.15"}
    assert text.numbers("3,000 people") == text.numbers("3000 people") == {"3000"}
    assert text.numbers("£2.5m") & text.numbers("2.5 million") & text.numbers("2,500,000")
    assert text.numbers("at 3.30pm") == text.numbers("at 15:30")
    assert text.numbers("four of them") == text.numbers("4 of them") and text.numbers("the eighth goal") == {"8"}
    assert text.numbers("twenty-five") == {"25"} and "100" in text.numbers("one hundred")
    assert text.numbers("forty-eight millions") & text.numbers("48m")
    assert text.numbers("one of the victims") == set()  # "one" alone is as often a pronoun
    assert text.numbers("model BK1701") == set()  # a model number is a name


# -- data lines ------------------------------------------------------------------------------------------------------

RESULT_TABLE = """Dana Whitcombe (Harbour Independents) 2,914
Raymond Salt (Civic Party) 2,377
Ifeoma Chukwu (Green Coalition) 1,106
Peter Lomax (Reform Alliance) 688
Sally Brindle (Liberal Union) 251"""

BY_ELECTION = f"""Independent wins Eastcliffe ward by-election

Harbour Independents candidate Dana Whitcombe has won the Eastcliffe ward by-election on Skelwick Town Council, taking the seat from the Civic Party by 537 votes.

The by-election was called after the death of Civic Party councillor Martin Fell in August. Turnout was 29.8 per cent.

The result:

{RESULT_TABLE}

Ms Whitcombe, a retired midwife, campaigned against plans to turn the Eastcliffe seafront car park into flats. She said she would ask for the scheme to be dropped at the next full council meeting."""

OTHER_OUTLET = f"""Seafront campaigner takes Eastcliffe seat

A retired midwife who fought plans for flats on the Eastcliffe seafront car park is the ward's new town councillor.

Dana Whitcombe, standing for the Harbour Independents, beat the Civic Party's Raymond Salt by 537 votes on a turnout of 29.8 per cent.

{RESULT_TABLE}

Campaigners from the Save Eastcliffe Seafront group, who had backed Ms Whitcombe, gathered outside the count at Skelwick Leisure Centre. Their chair, Graham Hollis, said the result showed the strength of feeling in the town.

Ms Whitcombe, who is 64, lives on Marine Terrace and has been a member of the group since it was set up two years ago."""


def test_a_shared_result_table_is_not_narrative():
    """Both print the returning officer's figures: five lines copied word for word, a quarter of this short report.
    They are no narrative: every outlet prints them. They were a verbatim run of five, a copy (`partial`, 0.25)."""
    assert run(BY_ELECTION, OTHER_OUTLET) is None


def test_a_copy_with_the_table_is_still_a_copy():
    m = run(BY_ELECTION, "Local news\n\n" + BY_ELECTION.split("\n\n", 1)[1])
    assert m is not None and m.kind == "verbatim"


def test_data_lines():
    def data(line: str) -> bool:
        p = Prepared.of(line)
        return match.is_data(p.text, p.sentences[0])
    for line in ("Booked: Hughes, Irving.", "Graham Fell (Progress Party) 11,907", "Harl Rovers: L L L W D",
                 "Ashbury Town: Whitlock; Dobbs, Irving, Mbeki, Sandoval.", "Attendance: 14,212.",
                 "Subs not used: Cole, Baird, Nunez, Farrant."):
        assert data(line), line
    for line in ("Joe Bloggs knew Lloyd Bentsen.",  # names, but no list
                 "Governor Appoints Former Aide To Fill Seat",  # a headline in title case
                 "Two players were booked: Marcus Quaye of Fenwick Athletic in the 44th minute.",
                 "The committee voted 7 to 2 on Tuesday to approve the application.",
                 "storyw0 storyw1 storyw2 storyw3 storyw4 storyw5 storyw6 storyw7 storyw8 storyw9."):  # codes, no list
        assert not data(line), line


# -- evidence offsets -------------------------------------------------------------------------------------------------

def test_a_passage_does_not_start_inside_a_word():
    """The "s" of a possessive is a word to the tokenizer and, as every possessive has one, it was found among the
    article's words: a passage started at the "s" of "Borough's" (the hard non-copy corpus, k11)."""
    article = ("The win was Fenwick Athletic's third in their last five league matches and lifts them to fourth place. "
               "Harl Rovers remain bottom after another away defeat.")
    page = ("The draw was Selsey Borough's second in their last five league matches and lifts them to fourth place. "
            "Marston Vale remain bottom after another away defeat.")
    passages = align(Prepared.of(article), Prepared.of(page), CFG, AlignParams.of(CFG))
    assert passages
    for p in passages:
        assert not page[p.page_start - 1].isalnum() and page[p.page_start - 1] not in "'\u2019"
        assert p.page_end == len(page) or not page[p.page_end].isalnum()
    assert page[passages[0].page_start:].startswith("in their last five")
