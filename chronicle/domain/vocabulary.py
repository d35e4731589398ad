"""Controlled vocabularies: kinds of development, stages, topics, the basis of a date and amount qualifiers.

Reference data with labels and descriptions. Slugs are part of the public contract
(API filters, feed URLs), so a slug is never renamed; add a new one instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    slug: str
    label: str
    description: str


def label(terms: dict[str, Term], slug: str) -> str:
    """The label of `slug` in `terms`; the slug itself if the vocabulary does not hold it."""
    return terms[slug].label if slug in terms else slug


def choices(terms: dict[str, Term]) -> list[tuple[str, str]]:
    """(slug, label) pairs in the vocabulary's order, for forms and model fields."""
    return [(term.slug, term.label) for term in terms.values()]


KINDS: dict[str, Term] = {
    term.slug: term
    for term in [
        Term("diplomatic-relations", "Diplomatic relations", "Establishing or upgrading relations between states."),
        Term("treaty", "Treaty", "A treaty or intergovernmental agreement, its signing or entry into force."),
        Term("agreement", "Agreement", "A contract or agreement between companies or agencies."),
        Term("memorandum", "Memorandum", "A memorandum of understanding or cooperation."),
        Term("decree", "Decree", "A decree, directive or law issued by a state authority."),
        Term("visit", "Visit", "An official visit by a head of state, minister or delegation."),
        Term("meeting", "Meeting", "A ministerial meeting, negotiation or session of a joint body."),
        Term("network-test", "Network test", "A trial or test network, e.g. of 5G."),
        Term("launch", "Launch", "A factory, network, service or product put into operation."),
        Term("investment", "Investment", "An investment, loan or credit line."),
        Term("statement", "Statement", "A public statement of intent or policy."),
        Term("training", "Training", "A training centre, course or educational programme."),
        Term("military-technical", "Military-technical", "Defence-industry cooperation, tests and deliveries."),
        Term("event", "Event", "A forum, exhibition or conference."),
        Term("programme", "Programme", "A state programme, strategy or initiative with a plan of action."),
        Term("pilot-project", "Pilot project", "A pilot project or trial of a technology other than a network test."),
        Term(
            "indicator",
            "Figures",
            "Figures measured over a period (trade volumes, investment, shares, residents' indicators): "
            "an observation, not a development.",
        ),
        Term(
            "context",
            "Context",
            "Not cooperation itself but an event the sources give to explain it, e.g. sanctions.",
        ),
    ]
}

STAGES: dict[str, Term] = {
    term.slug: term
    for term in [
        Term("announced", "Announced", "Made public but not yet signed or started."),
        Term("signed", "Signed", "Signed by the parties; not yet in force."),
        Term("in-force", "In force", "Legally in force."),
        Term("implemented", "Implemented", "Being carried out."),
        Term("completed", "Completed", "Finished."),
        Term("suspended", "Suspended", "Put on hold."),
        Term("cancelled", "Cancelled", "Called off."),
    ]
}

TOPICS: dict[str, Term] = {
    term.slug: term
    for term in [
        Term("5g", "5G", "Fifth-generation mobile networks: tests, spectrum, deployments."),
        Term("ict-policy", "ICT policy", "Government policy, regulation and strategy for ICT."),
        Term("industrial-parks", "Industrial parks", "Special economic zones and industrial parks."),
        Term("iptv", "IPTV", "Television over IP networks."),
        Term("ai", "Artificial intelligence", "Artificial intelligence research and applications."),
        Term("education", "Education", "Training, universities and skills."),
        Term("smart-cities", "Smart cities", "Smart and sustainable city projects."),
        Term("cybersecurity", "Cybersecurity", "Network and information security."),
        Term("postal", "Postal services", "Postal communications and logistics."),
        Term("trade", "Trade", "Trade in telecom equipment and services."),
        Term("military-technical", "Military-technical", "Defence-industry and military technology."),
        Term("broadband", "Broadband", "Fixed broadband and fibre networks."),
        Term("mobile", "Mobile networks", "Mobile operators and networks other than 5G specifically."),
        Term("spectrum", "Radio spectrum", "Radio-frequency spectrum use and coordination."),
        Term("roaming", "Roaming", "Roaming prices and agreements."),
        Term("manufacturing", "Manufacturing", "Production of equipment and devices."),
        Term("digital-economy", "Digital economy", "Digital transformation of the economy and public services."),
        Term("satellite", "Satellite", "Satellite communications and space technology."),
        Term("standards", "Standards", "Standardisation, including ITU work."),
        Term("diplomacy", "Diplomacy", "Diplomatic relations, treaties, state visits and political dialogue."),
        Term("investment", "Investment", "Investment flows, loans and credit lines."),
        Term("transport", "Transport and logistics", "Transport corridors, railways, flights and logistics."),
        Term("science", "Science and research", "Scientific cooperation, research centres and joint laboratories."),
        Term("software", "Software", "Software development, operating systems and IT products."),
    ]
}

# Kinds that are not cooperation developments themselves; the timeline lists figures under
# their own filter and marks context as such.
FIGURES = "indicator"
CONTEXT = "context"

# How the date of a development is known. An open-ended date (../2015-06-18) is always bounded.
DATE_BASES: dict[str, Term] = {
    term.slug: term
    for term in [
        Term("given", "Given by the source", "The source gives this date."),
        Term(
            "inferred",
            "Inferred from the source's date",
            "Worked out from the source's own date: the source says “last month”, “last year” or “today”.",
        ),
        Term(
            "bounded",
            "Bounded by the source",
            "The source says only that it happened by (../DATE) or from (DATE/..) a date.",
        ),
    ]
}

# How an amount's value relates to the quantity the source states ("more than 500 jobs").
AMOUNT_QUALIFIERS: dict[str, Term] = {
    term.slug: term
    for term in [
        Term("exact", "exact", "The source gives this value."),
        Term("more-than", "more than", "The source says more than this value."),
        Term("less-than", "less than", "The source says less than this value."),
        Term("about", "about", "The source gives this value as approximate."),
    ]
}
