"""Random run names in Nextflow's ``adjective_scientist`` style."""

from __future__ import annotations

import random


def _words(text: str) -> list[str]:
    return text.split()


_ADJECTIVES = _words(
    "agitated amazing angry boring clever cranky deadly distracted dreamy ecstatic elated "
    "evil fabulous festering focused friendly gloomy goofy grave happy hopeful hungry "
    "infallible jolly jovial kickass lonely loving mad modest naughty nauseous nostalgic "
    "pedantic pensive prickly reverent romantic sad serene sharp sick silly sleepy small "
    "stoic stupefied suspicious tender thirsty tiny trusting voluminous zen"
)
_SCIENTISTS = _words(
    "albattani allen almeida archimedes ardinghelli babbage banach bardeen bartik bell "
    "blackwell bohr borg bose brattain brown carson chandrasekhar cori crick curie darwin "
    "davinci dijkstra einstein elion engelbart euclid fermat fermi feynman franklin galileo "
    "goldberg goodall hawking heisenberg hodgkin hopper hypatia jang jennings kalam keller "
    "kirch lalande lamarr leakey lovelace lumiere mayer mccarthy mclean meitner mendel morse "
    "newton nobel noether pasteur payne perlman pike poincare ptolemy raman ritchie rosalind "
    "sammet shockley sinoussi stallman swartz tesla thompson torvalds turing varahamihira "
    "wescoff wilson wozniak wright yalow yonath"
)
_rng = random.Random()


def random_run_name() -> str:
    """A fresh random run name; always a valid Nextflow run name.

    >>> "_" in random_run_name()
    True
    """
    return f"{_rng.choice(_ADJECTIVES)}_{_rng.choice(_SCIENTISTS)}"
