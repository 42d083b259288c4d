"""Card numbers and PINs: the check digit catches every single-digit slip, numbers and PINs are
uniform (a chi-square test against the published 99.99% point of χ²(9), 33.720), hashes are salted scrypt with the
configured parameters, and a check never accepts a wrong or malformed PIN."""

from __future__ import annotations

import math

from laoke.cards import pins


def test_number_shape_and_entropy():
    n = pins.new_number()
    assert len(n) == 16 and n.startswith("9") and pins.number_valid(n)
    bits = math.log2(10**pins.NUMBER_RANDOM_DIGITS) + math.log2(10**pins.PIN_DIGITS)
    assert bits >= 64


def test_every_single_digit_slip_is_caught():
    for _ in range(50):
        n = pins.new_number()
        for i in range(len(n)):
            for d in "0123456789":
                if d != n[i]:
                    assert not pins.number_valid(n[:i] + d + n[i + 1 :])


def test_adjacent_transpositions_are_caught_except_09():
    for _ in range(50):
        n = pins.new_number()
        for i in range(1, len(n) - 1):  # the leading 9 is fixed
            a, b = n[i], n[i + 1]
            if a != b and {a, b} != {"0", "9"}:
                assert not pins.number_valid(n[:i] + b + a + n[i + 2 :])


def test_digits_are_uniform():
    counts = [0] * 10
    for _ in range(3_000):
        for ch in pins.new_pin() + pins.new_number()[1:-1]:
            counts[int(ch)] += 1
    expected = sum(counts) / 10
    statistic = sum((c - expected) ** 2 / expected for c in counts)
    assert statistic < 33.720  # χ²(9) upper 0.01% point (e.g. NIST/SEMATECH e-Handbook table 1.3.6.7.4)


def test_hash_is_salted_scrypt_and_checks_constant_shape(settings):
    h1, h2 = pins.hash_pin("12345678"), pins.hash_pin("12345678")
    assert h1 != h2  # salted
    algo, n, r, p, salt, digest = h1.split("$")
    assert len(pins._unb64(salt)) == 16 and len(pins._unb64(digest)) == 32
    assert (algo, int(n), int(r), int(p)) == (
        "scrypt",
        *(settings.LAOKE["CARD_PIN_SCRYPT"][k] for k in "nrp"),
    )
    assert "12345678" not in h1
    assert pins.check_pin("12345678", h1) and pins.check_pin("12345678", h2)
    assert not pins.check_pin("12345679", h1)
    for bad in ("", "1234567", "123456789", "1234567x", "１２３４５６７８", None):
        assert not pins.check_pin(bad, h1)
    assert pins.DEFAULT_SCRYPT == {"n": 2**13, "r": 8, "p": 1}  # production: about 20 ms


def test_fingerprint_is_keyed_and_not_the_pin():
    f = pins.pin_fingerprint("12345678")
    assert f != pins.pin_fingerprint("12345679") and "12345678" not in f and len(f) == 64
