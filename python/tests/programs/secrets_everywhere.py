"""Secrets in every place a trace holds a value; every secret value contains ``S3CR3T``.

Run with ``--password=S3CR3T-argv-eq --token S3CR3T-argv-sep --max-tokens 100``.
"""

import argparse
from collections import namedtuple

API_TOKEN = "S3CR3T-global"


Login = namedtuple("Login", "user password")


class Creds:
    def __init__(self, user, password):
        self.user = user
        self.password = password


class Client:
    def __init__(self):
        self.headers = {"Authorization": "Bearer S3CR3T-header", "Accept": "application/json"}
        self.logins = [Creds("ann", "S3CR3T-attr-in-list")]


def make_reader():
    api_key = "S3CR3T-closure"

    def read():
        return api_key

    return read


def get_password():
    return "COPIED-1234"


def fetch(request):
    return len(request["headers"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--password")
    parser.add_argument("--token")
    parser.add_argument("--max-tokens", type=int)
    ns = parser.parse_args()
    config = {"password": "S3CR3T-dict", "user": "ann", "max_tokens": 4096}
    settings = {"db": {"db_password": "S3CR3T-nested", "host": "localhost"}}
    client = Client()
    request = {
        "url": "/x",
        "headers": {
            "Authorization": "Bearer S3CR3T-request",
            "X-Api-Key": "S3CR3T-apikey",
            "Cookie": "sid=S3CR3T-cookie",
        },
    }
    size = fetch(request)
    revealed = len(make_reader()())
    rows = [{"token": "S3CR3T-row-%d" % i, "id": i} for i in range(3)]
    logins = [Login("ann", "S3CR3T-namedtuple")]
    environ = {"K%d" % i: i for i in range(10)}
    environ["AWS_SECRET_ACCESS_KEY"] = "S3CR3T-big-dict"
    for i in range(3):
        environ["K0"] = i
    the_name_of_this_variable_has_far_more_than_thirty_two_words_in_it_so_that_a_matcher_that_stops_after_thirty_two_words_never_gets_to_see_the_very_last_word_of_it_which_is_the_word_password = "S3CR3T-long-name"
    # Not secrets (visible with their values):
    max_tokens = 4096
    num_tokens = 12
    token_count = 3
    tokenizer = "bpe"
    cookie_cutter = "cc"
    # A secret copied into a neutral name cannot be recognised by its name (README):
    copied = get_password()
    print(
        size,
        revealed,
        ns.max_tokens,
        len(config) + len(settings) + len(client.logins) + len(rows) + len(environ) + len(logins),
        len(the_name_of_this_variable_has_far_more_than_thirty_two_words_in_it_so_that_a_matcher_that_stops_after_thirty_two_words_never_gets_to_see_the_very_last_word_of_it_which_is_the_word_password),
        max_tokens + num_tokens + token_count,
        tokenizer,
        cookie_cutter,
        copied,
    )


main()
