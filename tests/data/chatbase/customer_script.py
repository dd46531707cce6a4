"""A script as a Chatbase customer writes it for Chatbase's API v1, with `requests` as Chatbase's
own examples use it: make a chatbot from a text, wait for its training, chat (a whole answer, a
follow-up with the earlier turns, a streamed answer), read the conversation back, change
settings, read the leads, delete the chatbot.

Moving to Chatapp changes two values and nothing else: BASE_URL (Chatapp's
`/api/chatbase/v1`) and API_KEY (a workspace API token). Here they come from the environment
so tests/api/test_chatbase_compat.py can run the script as it is. It prints what it saw as one
JSON line and exits non-zero on any failed request.
"""

import codecs
import json
import os
import time
import uuid

import requests

BASE_URL = os.environ.get("CHATBASE_BASE_URL", "https://www.chatbase.co/api/v1")
API_KEY = os.environ["CHATBASE_API_KEY"]
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

SOURCE_TEXT = (
    "Gift cards\n\nThe Tea House sells gift cards from 10 to 200 pounds. "
    "Gift cards are valid for two years and can be used in every shop and online."
)


def check(response):
    if response.status_code >= 400:
        raise SystemExit(
            f"{response.request.method} {response.url}: {response.status_code} "
            f"{response.json().get('message')}"
        )
    return response


def create_chatbot(name, text):
    body = {"chatbotName": name, "sourceText": text}
    return check(requests.post(f"{BASE_URL}/create-chatbot", headers=HEADERS, json=body)).json()


def wait_until_trained(chatbot_id, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        bots = check(requests.get(f"{BASE_URL}/get-chatbots", headers=HEADERS)).json()["chatbots"]
        status = next(b["status"] for b in bots if b["id"] == chatbot_id)
        if status != "training":
            return status
        time.sleep(0.5)  # the customer's own polling pace
    raise SystemExit("the chatbot is still training")


def chat(chatbot_id, messages, conversation_id):
    body = {
        "chatbotId": chatbot_id,
        "messages": messages,
        "conversationId": conversation_id,
        "stream": False,
        "temperature": 0,
    }
    return check(requests.post(f"{BASE_URL}/chat", headers=HEADERS, json=body)).json()["text"]


def chat_streamed(chatbot_id, messages, conversation_id):
    body = {
        "chatbotId": chatbot_id,
        "messages": messages,
        "conversationId": conversation_id,
        "stream": True,
    }
    response = check(requests.post(f"{BASE_URL}/chat", headers=HEADERS, json=body, stream=True))
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunks = [decoder.decode(chunk) for chunk in response.iter_content(chunk_size=None)]
    return "".join(chunks) + decoder.decode(b"", final=True), len(chunks)


def main():
    chatbot_id = create_chatbot("Tea House Support", SOURCE_TEXT)["chatbotId"]
    status = wait_until_trained(chatbot_id)
    conversation_id = str(uuid.uuid4())
    question = "Do you sell gift cards?"
    answer = chat(chatbot_id, [{"role": "user", "content": question}], conversation_id)
    follow_up = [
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
        {"role": "user", "content": "How long are gift cards valid?"},
    ]
    second = chat(chatbot_id, follow_up, conversation_id)
    streamed, chunks = chat_streamed(
        chatbot_id, [{"role": "user", "content": "Can I use a gift card online?"}], conversation_id
    )
    params = {"chatbotId": chatbot_id, "startDate": "2020-01-01", "page": "1", "size": "10"}
    conversations = check(
        requests.get(f"{BASE_URL}/get-conversations", headers=HEADERS, params=params)
    ).json()["data"]
    mine = next(c for c in conversations if c["id"] == conversation_id)
    settings = {
        "chatbotId": chatbot_id,
        "instructions": "Be brief.",
        "temp": 0.2,
        "styles": {"theme": "dark", "buttonColor": "#112233"},
    }
    saved = check(
        requests.post(f"{BASE_URL}/update-chatbot-settings", headers=HEADERS, json=settings)
    ).json()
    leads = check(
        requests.get(f"{BASE_URL}/get-leads", headers=HEADERS, params={"chatbotId": chatbot_id})
    ).json()["collectedCustomers"]
    deleted = check(
        requests.delete(
            f"{BASE_URL}/delete-chatbot", headers=HEADERS, params={"chatbotId": chatbot_id}
        )
    ).json()
    print(
        json.dumps(
            {
                "status": status,
                "answer": answer,
                "second": second,
                "streamed": streamed,
                "chunks": chunks,
                "roles": [m["role"] for m in mine["messages"]],
                "saved": saved["message"],
                "leads": len(leads),
                "deleted": deleted["message"],
            }
        )
    )


if __name__ == "__main__":
    main()
