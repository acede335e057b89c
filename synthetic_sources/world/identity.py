"""Who people are: sex, names, dates of birth and National Insurance numbers.

Names are drawn from lists typical of South Wales (few surnames, many shared: linkage on names
alone is hard here, as it is in life). NI numbers are a bijection of the person id, so they are
unique without a lookup and stable whatever the horizon.
"""

from __future__ import annotations

import numpy as np

from contracts.vocabulary.ni_numbers import PREFIXES

MALE_FIRST = (
    "David", "John", "William", "Robert", "Richard", "Thomas", "Gareth", "Rhys", "Dylan", "Owen",
    "Evan", "Edward", "Michael", "Peter", "Huw", "Ieuan", "Aled", "Dafydd", "Gwyn", "Emyr",
    "Christopher", "Mark", "Paul", "Stephen", "Anthony", "James", "Daniel", "Matthew", "Ryan",
    "Jack", "Lewis", "Kyle", "Liam", "Jordan", "Callum", "Keith", "Brian", "Alan", "Kevin", "Ian",
)
FEMALE_FIRST = (
    "Margaret", "Elizabeth", "Catherine", "Jennifer", "Gwyneth", "Rhiannon", "Sian", "Megan",
    "Cerys", "Ffion", "Nia", "Eleri", "Bethan", "Carys", "Mary", "Susan", "Patricia", "Helen",
    "Sarah", "Karen", "Lisa", "Emma", "Rebecca", "Laura", "Rachel", "Hannah", "Chloe", "Jessica",
    "Amy", "Lauren", "Joan", "Dorothy", "Betty", "Glenys", "Myfanwy", "Nerys", "Angharad", "Ann",
    "Julie", "Tracey",
)
SURNAMES = (
    "Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Hughes", "Lewis", "Morgan",
    "Griffiths", "Price", "Rees", "Jenkins", "Owen", "Powell", "James", "Phillips", "Morris",
    "Edwards", "Watkins", "Harris", "Lloyd", "Pritchard", "Howells", "Bowen", "Parry", "Richards",
    "Walters", "Mathias", "Pugh", "Probert", "Gwilliam", "Hopkins", "Llewellyn", "Prosser",
    "Vaughan", "Meredith", "Bevan", "Cadwaladr", "Rowlands", "Smith", "Brown", "Taylor",
    "Wilson", "Johnson", "Walker", "Wright", "Robinson", "Thompson", "White", "Green", "Hall",
    "Clarke", "Jackson", "Wood", "Turner", "Hill", "Moore", "Cooper", "Ward", "Kowalski",
    "Nowak", "Ahmed", "Khan", "Ali", "Hussain", "Begum", "Singh", "Patel", "Murphy",
)
# Surnames are very unequal in Wales: the first ones are far more common.
_SURNAME_P = 1.0 / (np.arange(len(SURNAMES)) + 3.0) ** 0.9
_SURNAME_P /= _SURNAME_P.sum()

# the prefixes HMRC issues, in alphabetical order: the same rules linkage checks numbers by
_NI_PREFIXES = PREFIXES
_NI_SPACE = len(_NI_PREFIXES) * 1_000_000
_NI_MULT = 2_654_435_761  # a prime that does not divide the NI space: a bijection on it


def first_names(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    male = rng.choice(np.asarray(MALE_FIRST, dtype=object), len(sex))
    female = rng.choice(np.asarray(FEMALE_FIRST, dtype=object), len(sex))
    return np.where(sex == 0, male, female)


def surnames(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(np.asarray(SURNAMES, dtype=object), n, p=_SURNAME_P)


def ni_numbers(person_ids: np.ndarray, seed: int) -> np.ndarray:
    """Unique well-formed NI numbers, a keyed bijection of person ids."""
    pid = np.asarray(person_ids, dtype=np.int64)
    n = (pid * _NI_MULT + (seed % _NI_SPACE)) % _NI_SPACE
    prefixes = np.asarray(_NI_PREFIXES, dtype=object)[n // 1_000_000]
    digits = np.char.zfill((n % 1_000_000).astype(str), 6).astype(object)
    suffix = np.asarray(list("ABCD"), dtype=object)[pid % 4]
    return prefixes + digits + suffix
