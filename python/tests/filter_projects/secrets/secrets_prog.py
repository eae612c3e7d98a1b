class Account:
    def __init__(self, owner, secret):
        self.owner = owner
        self.secret = secret


def describe(account):
    return account.owner


def login(password, api_key):
    db_password = "pw-" + password
    authToken = "tok-" + api_key
    company_name = "ACME"
    span = 7
    author = "ann"
    tokenizer = "bpe"
    acct = Account("ann", "s3")
    owner = describe(acct)
    return len(db_password + authToken + company_name + author + tokenizer) + span + len(owner)


def more():
    userToken = "t"
    SECRET_KEY = "k"
    sessionId = 1
    aws_credentials = ("a", "b")
    password2 = "p2"
    passage = "text"
    secretary = "joan"
    session = "s"
    key = "k"
    return len(passage + secretary + session + key)


print(login("hunter2", "k-123"), more())
