"""Write the tiny synthetic datasets of ``adapterx/presets/tiny_data/`` (deterministic, stdlib only).

Every file is in its dataset's own distribution format and named as published (DESIGN.md, "Local
data layout"), so the offline demo and the tests exercise the same readers as real downloads. All
text is our own template sentences; nothing is copied from a real dataset. The translations are
short hand-written templates: good enough for a plumbing demo, not for measuring accuracy.

    python tools/make_tiny_data.py [OUT_DIR]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "adapterx" / "presets" / "tiny_data"

# ---------------------------------------------------------------------------------------------
# Lexicons. Sentence templates are chosen so that the answer slot is never inflected (e.g. Finnish
# "Kaupunki, jossa X asuu, on C." rather than a locative case of C), which keeps answers exact
# substrings. Person names are male where verbs or adjectives agree in gender.
# ---------------------------------------------------------------------------------------------

FACTS: dict[str, dict] = {
    "en": dict(names=["Anna", "Ben", "Clara", "David", "Elena"],
               cities=["Paris", "Berlin", "Lagos", "Lima", "Oslo"],
               jobs=["teacher", "doctor", "baker", "pilot", "cook"],
               live="{n} lives in {c}.", q_live="Where does {n} live?",
               job="{n} works as a {j}.", q_job="What is the job of {n}?",
               born="{n} was born in {y}.", q_born="In which year was {n} born?"),
    "ar": dict(names=["أحمد", "محمد", "علي", "خالد", "يوسف"],
               cities=["القاهرة", "دمشق", "بيروت", "عمان", "تونس"],
               jobs=["معلما", "طبيبا", "خبازا", "طيارا", "طباخا"],
               live="يعيش {n} في مدينة {c}.", q_live="في أي مدينة يعيش {n}؟",
               job="يعمل {n} {j}.", q_job="ماذا يعمل {n}؟",
               born="وُلد {n} في عام {y}.", q_born="في أي عام وُلد {n}؟"),
    "bg": dict(names=["Георги", "Петър", "Иван", "Николай", "Димитър"],
               cities=["София", "Пловдив", "Варна", "Бургас", "Русе"],
               jobs=["учител", "лекар", "пекар", "пилот", "готвач"],
               live="{n} живее в {c}.", q_live="Къде живее {n}?",
               job="{n} работи като {j}.", q_job="Какво работи {n}?",
               born="{n} е роден през {y} година.", q_born="През коя година е роден {n}?"),
    "bn": dict(names=["রহিম", "করিম", "সুমন", "রাজু", "তপন"],
               cities=["ঢাকা", "খুলনা", "রাজশাহী", "সিলেট", "বরিশাল"],
               jobs=["শিক্ষক", "ডাক্তার", "কৃষক", "পাইলট", "রাঁধুনি"],
               live="{n} {c} শহরে থাকে।", q_live="{n} কোন শহরে থাকে?",
               job="{n} একজন {j}।", q_job="{n} কী কাজ করে?",
               born="{n} {y} সালে জন্মগ্রহণ করে।", q_born="{n} কোন সালে জন্মগ্রহণ করে?"),
    "de": dict(names=["Jonas", "Lukas", "Felix", "Paul", "Max"],
               cities=["München", "Hamburg", "Köln", "Bremen", "Dresden"],
               jobs=["Lehrer", "Arzt", "Bäcker", "Pilot", "Koch"],
               live="{n} wohnt in {c}.", q_live="Wo wohnt {n}?",
               job="{n} arbeitet als {j}.", q_job="Als was arbeitet {n}?",
               born="{n} wurde {y} geboren.", q_born="In welchem Jahr wurde {n} geboren?"),
    "el": dict(names=["Νίκος", "Γιώργος", "Κώστας", "Δημήτρης", "Γιάννης"],
               cities=["Αθήνα", "Πάτρα", "Λάρισα", "Καβάλα", "Κέρκυρα"],
               jobs=["δάσκαλος", "γιατρός", "φούρναρης", "πιλότος", "μάγειρας"],
               live="Ο {n} μένει στην {c}.", q_live="Πού μένει ο {n};",
               job="Ο {n} είναι {j}.", q_job="Τι δουλειά κάνει ο {n};",
               born="Ο {n} γεννήθηκε το {y}.", q_born="Πότε γεννήθηκε ο {n};"),
    "es": dict(names=["Pablo", "Diego", "Javier", "Mateo", "Hugo"],
               cities=["Madrid", "Sevilla", "Bogotá", "Lima", "Valencia"],
               jobs=["profesor", "médico", "panadero", "piloto", "cocinero"],
               live="{n} vive en {c}.", q_live="¿Dónde vive {n}?",
               job="{n} trabaja como {j}.", q_job="¿En qué trabaja {n}?",
               born="{n} nació en {y}.", q_born="¿En qué año nació {n}?"),
    "fi": dict(names=["Mikko", "Juha", "Matti", "Antti", "Jussi"],
               cities=["Helsinki", "Tampere", "Turku", "Oulu", "Espoo"],
               jobs=["opettaja", "lääkäri", "leipuri", "lentäjä", "kokki"],
               live="Kaupunki, jossa {n} asuu, on {c}.", q_live="Missä kaupungissa {n} asuu?",
               job="{n} on ammatiltaan {j}.", q_job="Mikä {n} on ammatiltaan?",
               born="{n} syntyi vuonna {y}.", q_born="Minä vuonna {n} syntyi?"),
    "fr": dict(names=["Louis", "Hugo", "Jules", "Pierre", "Paul"],
               cities=["Lyon", "Marseille", "Lille", "Nantes", "Toulouse"],
               jobs=["professeur", "médecin", "boulanger", "pilote", "cuisinier"],
               live="{n} habite à {c}.", q_live="Où habite {n} ?",
               job="{n} travaille comme {j}.", q_job="Quel est le métier de {n} ?",
               born="{n} est né en {y}.", q_born="En quelle année {n} est-il né ?"),
    "hi": dict(names=["राहुल", "अमित", "विजय", "सुरेश", "रमेश"],
               cities=["दिल्ली", "मुंबई", "जयपुर", "पटना", "लखनऊ"],
               jobs=["शिक्षक", "डॉक्टर", "किसान", "पायलट", "रसोइया"],
               live="{n} {c} में रहता है।", q_live="{n} कहाँ रहता है?",
               job="{n} एक {j} है।", q_job="{n} क्या काम करता है?",
               born="{n} का जन्म {y} में हुआ था।", q_born="{n} का जन्म किस साल हुआ था?"),
    "id": dict(names=["Budi", "Agus", "Andi", "Joko", "Rudi"],
               cities=["Jakarta", "Bandung", "Surabaya", "Medan", "Makassar"],
               jobs=["guru", "dokter", "petani", "pilot", "koki"],
               live="{n} tinggal di {c}.", q_live="Di mana {n} tinggal?",
               job="{n} bekerja sebagai {j}.", q_job="Apa pekerjaan {n}?",
               born="{n} lahir pada tahun {y}.", q_born="Pada tahun berapa {n} lahir?"),
    "ko": dict(names=["민수", "지호", "준호", "영수", "지우"],  # vowel-final: topic particle 는
               cities=["서울", "부산", "대구", "인천", "광주"],
               jobs=["교사", "의사", "농부", "요리사", "조종사"],
               live="{n}는 {c}에 산다.", q_live="{n}는 어디에 사나요?",
               job="{n}의 직업은 {j}이다.", q_job="{n}의 직업은 무엇인가요?",
               born="{n}는 {y}년에 태어났다.", q_born="{n}는 몇 년에 태어났나요?"),
    "ro": dict(names=["Andrei", "Mihai", "Ion", "Radu", "Vlad"],
               cities=["București", "Cluj", "Iași", "Timișoara", "Brașov"],
               jobs=["profesor", "medic", "brutar", "pilot", "bucătar"],
               live="{n} locuiește în {c}.", q_live="Unde locuiește {n}?",
               job="{n} lucrează ca {j}.", q_job="Ce meserie are {n}?",
               born="{n} s-a născut în {y}.", q_born="În ce an s-a născut {n}?"),
    "ru": dict(names=["Иван", "Алексей", "Дмитрий", "Сергей", "Андрей"],
               cities=["Москва", "Казань", "Самара", "Омск", "Томск"],
               jobs=["учителем", "врачом", "пекарем", "пилотом", "поваром"],
               live="{n} живёт в городе {c}.", q_live="В каком городе живёт {n}?",
               job="{n} работает {j}.", q_job="Кем работает {n}?",
               born="{n} родился в {y} году.", q_born="В каком году родился {n}?"),
    "sw": dict(names=["Juma", "Baraka", "Hamisi", "Musa", "Salim"],
               cities=["Nairobi", "Mombasa", "Arusha", "Dodoma", "Kisumu"],
               jobs=["mwalimu", "daktari", "mkulima", "rubani", "mpishi"],
               live="{n} anaishi mjini {c}.", q_live="{n} anaishi wapi?",
               job="{n} ni {j}.", q_job="{n} anafanya kazi gani?",
               born="{n} alizaliwa mwaka {y}.", q_born="{n} alizaliwa mwaka gani?"),
    "te": dict(names=["రాము", "రవి", "కృష్ణ", "సురేష్", "గోపాల్"],
               cities=["హైదరాబాద్", "విజయవాడ", "వరంగల్", "గుంటూరు", "తిరుపతి"],
               jobs=["ఉపాధ్యాయుడు", "వైద్యుడు", "రైతు", "పైలట్", "వంటవాడు"],
               live="{n} {c} నగరంలో నివసిస్తాడు.", q_live="{n} ఏ నగరంలో నివసిస్తాడు?",
               job="{n} ఒక {j}.", q_job="{n} ఏమి పని చేస్తాడు?",
               born="{n} {y}లో జన్మించాడు.", q_born="{n} ఏ సంవత్సరంలో జన్మించాడు?"),
    "th": dict(names=["สมชาย", "สมศักดิ์", "วิชัย", "สุชาติ", "ประเสริฐ"],
               cities=["กรุงเทพ", "เชียงใหม่", "ภูเก็ต", "ขอนแก่น", "อยุธยา"],
               jobs=["ครู", "หมอ", "ชาวนา", "นักบิน", "พ่อครัว"],
               live="{n}อาศัยอยู่ที่{c}", q_live="{n}อาศัยอยู่ที่ไหน",
               job="{n}เป็น{j}", q_job="{n}มีอาชีพอะไร",
               born="{n}เกิดในปี {y}", q_born="{n}เกิดปีอะไร"),
    "tr": dict(names=["Mehmet", "Ahmet", "Mustafa", "Emre", "Murat"],
               cities=["Ankara", "İzmir", "Bursa", "Konya", "Antalya"],
               jobs=["öğretmen", "doktor", "fırıncı", "pilot", "aşçı"],
               live="{n} {c} şehrinde yaşıyor.", q_live="{n} hangi şehirde yaşıyor?",
               job="{n} {j} olarak çalışıyor.", q_job="{n} ne iş yapıyor?",
               born="{n} {y} yılında doğdu.", q_born="{n} hangi yıl doğdu?"),
    "ur": dict(names=["علی", "احمد", "عمران", "بلال", "حسن"],
               cities=["لاہور", "کراچی", "پشاور", "ملتان", "کوئٹہ"],
               jobs=["استاد", "ڈاکٹر", "کسان", "پائلٹ", "باورچی"],
               live="{n} {c} میں رہتا ہے۔", q_live="{n} کہاں رہتا ہے؟",
               job="{n} ایک {j} ہے۔", q_job="{n} کیا کام کرتا ہے؟",
               born="{n} {y} میں پیدا ہوا۔", q_born="{n} کس سال پیدا ہوا؟"),
    "vi": dict(names=["Minh", "Hùng", "Tuấn", "Nam", "Long"],
               cities=["Hà Nội", "Huế", "Đà Nẵng", "Cần Thơ", "Hải Phòng"],
               jobs=["giáo viên", "bác sĩ", "nông dân", "phi công", "đầu bếp"],
               live="{n} sống ở {c}.", q_live="{n} sống ở đâu?",
               job="{n} làm nghề {j}.", q_job="{n} làm nghề gì?",
               born="{n} sinh năm {y}.", q_born="{n} sinh năm nào?"),
    "zh": dict(names=["王伟", "李强", "张磊", "刘洋", "陈杰"],
               cities=["北京", "上海", "广州", "成都", "西安"],
               jobs=["老师", "医生", "农民", "飞行员", "厨师"],
               live="{n}住在{c}。", q_live="{n}住在哪里？",
               job="{n}是一名{j}。", q_job="{n}的职业是什么？",
               born="{n}出生于{y}年。", q_born="{n}出生于哪一年？"),
}
SEP = {"zh": ""}  # sentence separator; a space elsewhere (Thai separates sentences by spaces too)

# More English for the English-only training sets, so the tiny tokenizer sees some variety.
EN_NAMES = ["Anna", "Ben", "Clara", "David", "Elena", "Frank", "Grace", "Henry", "Iris", "Jack",
            "Kara", "Leo", "Maya", "Nathan", "Olivia", "Peter", "Rosa", "Sam", "Tina", "Victor",
            "Wendy", "Yusuf", "Zoe", "Omar"]
EN_CITIES = ["Paris", "Berlin", "Lagos", "Lima", "Oslo", "Cairo", "Delhi", "Tokyo", "Nairobi",
             "Madrid", "Rome", "Seoul", "Hanoi", "Quito", "Dublin", "Vienna"]
EN_JOBS = ["teacher", "doctor", "baker", "farmer", "pilot", "driver", "nurse", "singer",
           "painter", "writer", "cook", "tailor"]
EN_PETS = ["Rex", "Bella", "Luna", "Charlie", "Daisy", "Milo", "Coco", "Buddy"]
EN_FOODS = ["rice", "apples", "bread", "soup", "cheese", "noodles", "fish", "salad"]
EN_FACTS = {  # kind: (sentence, question, answer slot)
    "live": ("{n} lives in {c}.", "Where does {n} live?", "c"),
    "job": ("{n} works as a {j}.", "What is the job of {n}?", "j"),
    "born": ("{n} was born in {y}.", "In which year was {n} born?", "y"),
    "pet": ("{n} has a dog called {p}.", "What is the name of the dog of {n}?", "p"),
    "food": ("{n} likes to eat {f}.", "What does {n} like to eat?", "f"),
    "who": ("{n} lives in {c}.", "Who lives in {c}?", "n"),
}

# COPA-style sentences: same keys in every language; items below combine them.
COPA: dict[str, dict] = {
    "en": dict(names=["Anna", "Ben", "Clara", "David", "Elena", "Frank"],
               hungry="{n} was hungry.", ate="{n} ate some bread.", tired="{n} was tired.",
               slept="{n} went to sleep.", rain="It started to rain.",
               umbrella="{n} opened an umbrella.", gift="{n} got a gift.", happy="{n} was happy."),
    "et": dict(names=["Jaan", "Mart", "Toomas", "Peeter", "Kalev", "Rein"],
               hungry="{n} oli näljane.", ate="{n} sõi leiba.", tired="{n} oli väsinud.",
               slept="{n} läks magama.", rain="Hakkas vihma sadama.",
               umbrella="{n} avas vihmavarju.", gift="{n} sai kingituse.", happy="{n} oli õnnelik."),
    "ht": dict(names=["Jan", "Pyè", "Jak", "Wilson", "Wony", "Frantz"],
               hungry="{n} te grangou.", ate="{n} te manje pen.", tired="{n} te fatige.",
               slept="{n} te al dòmi.", rain="Lapli te kòmanse tonbe.",
               umbrella="{n} te louvri yon parapli.", gift="{n} te resevwa yon kado.",
               happy="{n} te kontan."),
    "id": dict(names=["Budi", "Agus", "Andi", "Joko", "Rudi", "Eko"],
               hungry="{n} merasa lapar.", ate="{n} makan roti.", tired="{n} merasa lelah.",
               slept="{n} pergi tidur.", rain="Hujan mulai turun.",
               umbrella="{n} membuka payung.", gift="{n} mendapat hadiah.", happy="{n} merasa senang."),
    "it": dict(names=["Marco", "Luca", "Paolo", "Giorgio", "Matteo", "Andrea"],
               hungry="{n} aveva fame.", ate="{n} ha mangiato del pane.", tired="{n} era stanco.",
               slept="{n} è andato a dormire.", rain="Ha cominciato a piovere.",
               umbrella="{n} ha aperto un ombrello.", gift="{n} ha ricevuto un regalo.",
               happy="{n} era felice."),
    "qu": dict(names=["Mayta", "Amaru", "Kusi", "Wayra", "Inti", "Sayri"],
               hungry="{n} yarqasqa karqan.", ate="{n} t'antata mikhurqan.",
               tired="{n} sayk'usqa karqan.", slept="{n} puñuq rirqan.", rain="Para chayamurqan.",
               umbrella="{n} paraguasninta kicharqan.", gift="{n} huk suñayta chaskirqan.",
               happy="{n} kusisqa karqan."),
    "sw": dict(names=["Juma", "Baraka", "Hamisi", "Musa", "Salim", "Abdi"],
               hungry="{n} alikuwa na njaa.", ate="{n} alikula mkate.",
               tired="{n} alikuwa amechoka.", slept="{n} alikwenda kulala.",
               rain="Mvua ilianza kunyesha.", umbrella="{n} alifungua mwavuli.",
               gift="{n} alipata zawadi.", happy="{n} alifurahi."),
    "ta": dict(names=["ராஜா", "குமார்", "முருகன்", "அருண்", "கார்த்திக்", "செல்வம்"],
               hungry="{n} பசியாக இருந்தான்.", ate="{n} ரொட்டி சாப்பிட்டான்.",
               tired="{n} களைப்பாக இருந்தான்.", slept="{n} தூங்கச் சென்றான்.",
               rain="மழை பெய்யத் தொடங்கியது.", umbrella="{n} குடையைத் திறந்தான்.",
               gift="{n} ஒரு பரிசு பெற்றான்.", happy="{n} மகிழ்ச்சியாக இருந்தான்."),
    "th": dict(names=["สมชาย", "สมศักดิ์", "วิชัย", "สุชาติ", "ประเสริฐ", "ธนา"],
               hungry="{n}หิว", ate="{n}กินขนมปัง", tired="{n}เหนื่อย", slept="{n}เข้านอน",
               rain="ฝนเริ่มตก", umbrella="{n}กางร่ม", gift="{n}ได้รับของขวัญ",
               happy="{n}มีความสุข"),
    "tr": dict(names=["Mehmet", "Ahmet", "Mustafa", "Emre", "Can", "Murat"],
               hungry="{n} acıkmıştı.", ate="{n} ekmek yedi.", tired="{n} yorgundu.",
               slept="{n} uyumaya gitti.", rain="Yağmur yağmaya başladı.",
               umbrella="{n} şemsiyesini açtı.", gift="{n} bir hediye aldı.", happy="{n} mutluydu."),
    "vi": dict(names=["Minh", "Hùng", "Tuấn", "Nam", "Long", "Dũng"],
               hungry="{n} thấy đói.", ate="{n} ăn bánh mì.", tired="{n} thấy mệt.",
               slept="{n} đi ngủ.", rain="Trời bắt đầu mưa.", umbrella="{n} mở ô.",
               gift="{n} nhận được một món quà.", happy="{n} rất vui."),
    "zh": dict(names=["王伟", "李强", "张磊", "刘洋", "陈杰", "杨帆"],
               hungry="{n}饿了。", ate="{n}吃了面包。", tired="{n}累了。", slept="{n}去睡觉了。",
               rain="开始下雨了。", umbrella="{n}打开了伞。", gift="{n}收到了一份礼物。",
               happy="{n}很开心。"),
}
# (premise, question, right choice, wrong choice)
COPA_ITEMS = [("hungry", "effect", "ate", "slept"), ("tired", "effect", "slept", "ate"),
              ("rain", "effect", "umbrella", "gift"), ("happy", "cause", "gift", "rain"),
              ("slept", "cause", "tired", "happy"), ("ate", "cause", "hungry", "umbrella")]
EN_COPA_EXTRA = dict(dropped="{n} dropped a glass.", broke="The glass broke.",
                     missed="{n} missed the bus.", walked="{n} walked to work.",
                     studied="{n} studied all night.", passed="{n} passed the exam.",
                     cold="{n} felt cold.", coat="{n} put on a coat.",
                     laughed="{n} laughed loudly.", joke="{n} heard a funny joke.")
EN_COPA_ITEMS = COPA_ITEMS + [
    ("dropped", "effect", "broke", "passed"), ("missed", "effect", "walked", "happy"),
    ("passed", "cause", "studied", "dropped"), ("coat", "cause", "cold", "joke"),
    ("laughed", "cause", "joke", "tired"), ("cold", "effect", "coat", "broke")]

# SocialIQA-style items: (context, question, right answer, two wrong answers).
SIQA_ITEMS = [
    ("{a} gave {b} a present.", "How would {b} feel as a result?", "happy", ["angry", "bored"]),
    ("{a} forgot the birthday of {b}.", "How would {b} feel as a result?", "sad",
     ["proud", "hungry"]),
    ("{a} studied hard for the test.", "Why did {a} do this?", "to pass the test",
     ["to lose the game", "to sleep more"]),
    ("{a} cooked dinner for {b}.", "What will {b} want to do next?", "eat the dinner",
     ["paint the house", "go to school"]),
    ("{a} helped {b} move to a new house.", "How would you describe {a}?", "helpful",
     ["lazy", "rude"]),
    ("{a} lost the keys to the car.", "What will {a} want to do next?", "look for the keys",
     ["buy a cake", "sing a song"]),
]

XNLI_LANGS = ["ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh"]
XQUAD_LANGS = ["ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"]
TYDIQA_LANGS = {"ar": "arabic", "bn": "bengali", "en": "english", "fi": "finnish",
                "id": "indonesian", "ko": "korean", "ru": "russian", "sw": "swahili",
                "te": "telugu"}
XCOPA_LANGS = ["et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"]
PUNCT = set(".,?!;:\"'。？！،؟۔।")


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

def _write(path: Path, text: str) -> None:
    """Write UTF-8 text with Unix newlines (byte-identical on every platform)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _write_json(path: Path, obj: object) -> None:
    """Write one JSON document as SQuAD and its relatives distribute them (a single line)."""
    _write(path, json.dumps(obj, ensure_ascii=False) + "\n")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write one JSON object per line."""
    _write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def _write_tsv(path: Path, header: list[str], rows: list[dict]) -> None:
    """Write a GLUE-style TSV: header row, tab-separated, no quoting."""
    lines = ["\t".join(header)]
    for r in rows:
        assert not any("\t" in str(r[h]) or "\n" in str(r[h]) for h in header)
        lines.append("\t".join(str(r[h]) for h in header))
    _write(path, "\n".join(lines) + "\n")


def _tokens(sentence: str) -> list[str]:
    """Whitespace tokens with leading/trailing punctuation split off (XNLI's *_tokenized look)."""
    out: list[str] = []
    for chunk in sentence.split():
        head, tail = [], []
        while chunk and chunk[0] in PUNCT:
            head.append(chunk[0])
            chunk = chunk[1:]
        while chunk and chunk[-1] in PUNCT:
            tail.insert(0, chunk[-1])
            chunk = chunk[:-1]
        out += head + ([chunk] if chunk else []) + tail
    return out


def _binary_parse(sentence: str) -> str:
    """A right-branching bracketing: the files need the column, nobody trains on it."""
    toks = _tokens(sentence)
    tree = toks[-1]
    for t in reversed(toks[:-1]):
        tree = f"( {t} {tree} )"
    return tree


def _parse(sentence: str) -> str:
    """A flat constituency-style parse with a placeholder tag per token."""
    return "(ROOT (S " + " ".join(f"(X {t})" for t in _tokens(sentence)) + "))"


# ---------------------------------------------------------------------------------------------
# Extractive QA (SQuAD, XQuAD, TyDiQA-GoldP)
# ---------------------------------------------------------------------------------------------
# A person is (sentences, questions); a question is (sentence index, question text, answer), the
# answer being the first occurrence of that text in its sentence.
Person = tuple[list[str], list[tuple[int, str, str]]]


def _person(lang: str, i: int, year: int) -> Person:
    """Three facts about person ``i`` of ``lang``'s lexicon (city, job, birth year)."""
    L = FACTS[lang]
    n, c, j = L["names"][i], L["cities"][(i + 2) % 5], L["jobs"][(i + 3) % 5]
    sents = [L["live"].format(n=n, c=c), L["job"].format(n=n, j=j), L["born"].format(n=n, y=year)]
    questions = [(0, L["q_live"].format(n=n), c), (1, L["q_job"].format(n=n), j),
                 (2, L["q_born"].format(n=n), str(year))]
    return sents, questions


def _en_person(rng: random.Random, n: str, used: set[str]) -> Person:
    """Four random English facts about ``n``, avoiding (and recording) values in ``used``."""
    def pick(pool: list[str]) -> str:
        value = rng.choice([v for v in pool if v not in used])
        used.add(value)
        return value

    years = [str(y) for y in range(1950, 2006)]
    slots = dict(n=n, c=pick(EN_CITIES), j=pick(EN_JOBS), y=pick(years), p=pick(EN_PETS),
                 f=pick(EN_FOODS))
    sents, questions = [], []
    for k, kind in enumerate(rng.sample(["live", "job", "born", "pet", "food"], 4)):
        if kind == "live" and rng.random() < 0.5:
            kind = "who"  # same sentence, asked the other way round: the answer is the name
        template, question, slot = EN_FACTS[kind]
        sents.append(template.format(**slots))
        questions.append((k, question.format(**slots), slots[slot]))
    return sents, questions


def _paragraph(people: list[Person], qids: list[str], sep: str) -> dict:
    """Join the people's sentences into one context and place every answer in it."""
    context, offsets, qas = "", [], []
    for sents, _ in people:
        offsets.append([])
        for sent in sents:
            context += sep if context else ""
            offsets[-1].append(len(context))
            context += sent
    it = iter(qids)
    for (sents, questions), offs in zip(people, offsets, strict=True):
        for k, question, answer in questions:
            start = offs[k] + sents[k].index(answer)
            # a template slip must fail here, not in a user's demo
            assert context[start:start + len(answer)] == answer, (question, answer)
            qas.append({"answers": [{"answer_start": start, "text": answer}],
                        "question": question, "id": next(it)})
    return {"context": context, "qas": qas}


def _squad_id(rng: random.Random) -> str:
    """A SQuAD-style id: 24 hex digits."""
    return f"{rng.getrandbits(96):024x}"


def _tydiqa_id(rng: random.Random, lang: str) -> str:
    """A TyDiQA-style id: the language's name, a 19-digit number, the question's index."""
    return f"{TYDIQA_LANGS[lang]}-{rng.randrange(10**18, 10**19)}-0"


def make_squad(out: Path) -> None:
    """SQuAD v1.1: paragraphs of two people, 4 questions each (64 train, 16 dev)."""
    rng = random.Random(303)
    names = rng.sample(EN_NAMES, len(EN_NAMES))
    for split, n_articles in (("train", 4), ("dev", 1)):
        articles = []
        for a in range(n_articles):
            paragraphs = []
            for _ in range(2):
                used: set[str] = set()
                people = [_en_person(rng, names.pop(), used) for _ in range(2)]
                paragraphs.append(_paragraph(people, [_squad_id(rng) for _ in range(8)], " "))
            articles.append({"title": f"Neighbours_{split}_{a}", "paragraphs": paragraphs})
        _write_json(out / "squad" / f"{split}-v1.1.json", {"data": articles, "version": "1.1"})


def make_xquad(out: Path) -> None:
    """XQuAD: the same 2 paragraphs x 3 questions in 12 languages, ids shared across languages."""
    rng = random.Random(101)
    people = [(i, rng.randrange(1950, 2006)) for i in rng.sample(range(5), 2)]
    ids = [[_squad_id(rng) for _ in range(3)] for _ in people]
    for lang in XQUAD_LANGS:
        paragraphs = [_paragraph([_person(lang, i, y)], qids, SEP.get(lang, " "))
                      for (i, y), qids in zip(people, ids, strict=True)]
        _write_json(out / "xquad" / f"xquad.{lang}.json",
                    {"data": [{"title": "Tiny_people", "paragraphs": paragraphs}], "version": "1.1"})


def make_tydiqa(out: Path) -> None:
    """TyDiQA-GoldP: one question per article as in GoldP; English-only train, 9-language dev."""
    rng = random.Random(202)
    dev = []
    for lang in TYDIQA_LANGS:
        for i in rng.sample(range(5), 2):
            sents, questions = _person(lang, i, rng.randrange(1950, 2006))
            for q in questions:
                para = _paragraph([(sents, [q])], [_tydiqa_id(rng, lang)], SEP.get(lang, " "))
                dev.append({"paragraphs": [para], "title": FACTS[lang]["names"][i]})
    train = []
    for k in range(64):
        n = EN_NAMES[k % len(EN_NAMES)]
        sents, questions = _en_person(rng, n, set())
        para = _paragraph([(sents, [questions[k % 4]])], [_tydiqa_id(rng, "en")], " ")
        train.append({"paragraphs": [para], "title": n})
    _write_json(out / "tydiqa" / "tydiqa-goldp-v1.1-train.json", {"data": train, "version": "v1.1"})
    _write_json(out / "tydiqa" / "tydiqa-goldp-v1.1-dev.json", {"data": dev, "version": "v1.1"})


# ---------------------------------------------------------------------------------------------
# NLI (MNLI, XNLI)
# ---------------------------------------------------------------------------------------------
NLI_CYCLE = ["entailment", "neutral", "contradiction"]
MNLI_GENRES = ["fiction", "government", "slate", "telephone", "travel"]
XNLI_GENRES = ["facetoface", "fiction", "government", "letters", "nineeleven", "oup", "slate",
               "telephone", "travel", "verbatim"]


def _mnli_rows(rng: random.Random, n_premises: int, start_index: int, dev: bool) -> list[dict]:
    """English premises of two facts, each with one entailed, neutral and contradicted hypothesis."""
    rows = []
    for _ in range(n_premises):
        n = rng.choice(EN_NAMES)
        c, c2 = rng.sample(EN_CITIES, 2)
        j, j2 = rng.sample(EN_JOBS, 2)
        pet = rng.choice(EN_PETS)
        premise = rng.choice([f"{n} lives in {c} and works as a {j}.",
                              f"{n}, a {j} from {c}, has a dog called {pet}."])
        hyps = {
            # quotes are literal text in GLUE files; they exercise csv.QUOTE_NONE in the reader
            "entailment": rng.choice([f"{n} lives in {c}.", f'{n} says: "I am a {j}."',
                                      f"{n} has a job."]),
            "neutral": rng.choice([f"{n} was born in {rng.randrange(1950, 2006)}.",
                                   f"{n} likes to eat {rng.choice(EN_FOODS)}.",
                                   f"{n} has two sisters."]),
            "contradiction": rng.choice([f"{n} lives in {c2}.", f'{n} says: "I am a {j2}."',
                                         f"{n} has never been to {c}."]),
        }
        prompt_id = rng.randrange(10000, 99999)
        genre = rng.choice(MNLI_GENRES)
        for label in NLI_CYCLE:
            s2 = hyps[label]
            row = {"index": start_index + len(rows), "promptID": prompt_id,
                   "pairID": f"{prompt_id}{label[0]}", "genre": genre,
                   "sentence1_binary_parse": _binary_parse(premise),
                   "sentence2_binary_parse": _binary_parse(s2),
                   "sentence1_parse": _parse(premise), "sentence2_parse": _parse(s2),
                   "sentence1": premise, "sentence2": s2, "label1": label, "gold_label": label}
            if dev:  # five annotators; the gold label is the majority
                others = [lab for lab in NLI_CYCLE if lab != label]
                votes = [label, label, label, rng.choice([label] + others), rng.choice([label] + others)]
                row.update({f"label{k + 1}": v for k, v in enumerate(votes)})
            rows.append(row)
    return rows


def make_mnli(out: Path) -> None:
    """GLUE MNLI: train.tsv (63 rows) and dev_matched.tsv (15 rows) with GLUE's columns."""
    rng = random.Random(404)
    base = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse",
            "sentence2_binary_parse", "sentence1_parse", "sentence2_parse", "sentence1", "sentence2"]
    train = _mnli_rows(rng, 21, 0, dev=False)
    dev = _mnli_rows(rng, 5, len(train), dev=True)
    _write_tsv(out / "mnli" / "train.tsv", base + ["label1", "gold_label"], train)
    _write_tsv(out / "mnli" / "dev_matched.tsv",
               base + [f"label{k}" for k in range(1, 6)] + ["gold_label"], dev)


def make_xnli(out: Path) -> None:
    """XNLI-1.0: xnli.{dev,test}.tsv, 6 parallel rows per language for 15 languages."""
    header = ["language", "gold_label", "sentence1_binary_parse", "sentence2_binary_parse",
              "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "promptID",
              "pairID", "genre", "sentence1_tokenized", "sentence2_tokenized", "match"]
    for split, seed, first_pair in (("dev", 505, 1), ("test", 606, 5011)):
        rng = random.Random(seed)
        # one draw per row, rendered in every language: XNLI rows are translations of each other
        draws = []
        for k in range(6):
            i, i2 = rng.sample(range(5), 2)
            draws.append(dict(i=i, other=i2, year=rng.randrange(1950, 2006), label=NLI_CYCLE[k % 3],
                              on_job=k >= 3, genre=rng.choice(XNLI_GENRES)))
        rows = []
        for lang in XNLI_LANGS:
            L, sep = FACTS[lang], SEP.get(lang, " ")
            for k, d in enumerate(draws):
                n, c, j = L["names"][d["i"]], L["cities"][d["i"]], L["jobs"][d["i"]]
                c2, j2 = L["cities"][d["other"]], L["jobs"][d["other"]]
                premise = L["live"].format(n=n, c=c) + sep + L["job"].format(n=n, j=j)
                if d["label"] == "neutral":
                    hyp = L["born"].format(n=n, y=d["year"])
                elif d["on_job"]:
                    hyp = L["job"].format(n=n, j=j if d["label"] == "entailment" else j2)
                else:
                    hyp = L["live"].format(n=n, c=c if d["label"] == "entailment" else c2)
                rows.append({"language": lang, "gold_label": d["label"],
                             "sentence1_binary_parse": _binary_parse(premise),
                             "sentence2_binary_parse": _binary_parse(hyp),
                             "sentence1_parse": _parse(premise), "sentence2_parse": _parse(hyp),
                             "sentence1": premise, "sentence2": hyp,
                             "promptID": first_pair + k // 3, "pairID": first_pair + k,
                             "genre": d["genre"], "sentence1_tokenized": " ".join(_tokens(premise)),
                             "sentence2_tokenized": " ".join(_tokens(hyp)), "match": "True"})
        _write_tsv(out / "xnli" / f"xnli.{split}.tsv", header, rows)


# ---------------------------------------------------------------------------------------------
# Multiple choice (SocialIQA, COPA, XCOPA)
# ---------------------------------------------------------------------------------------------

def make_siqa(out: Path) -> None:
    """SocialIQA original release: {split}.jsonl + {split}-labels.lst with labels 1..3."""
    rng = random.Random(707)
    for split, count in (("train", 48), ("dev", 12)):
        rows, labels = [], []
        positions = [k % 3 for k in range(count)]  # balanced labels, in random order
        rng.shuffle(positions)
        for k, pos in enumerate(positions):
            context, question, right, wrong = SIQA_ITEMS[k % len(SIQA_ITEMS)]
            a, b = rng.sample(EN_NAMES, 2)
            answers = rng.sample(wrong, 2)
            answers.insert(pos, right)
            rows.append({"context": context.format(a=a, b=b), "question": question.format(a=a, b=b),
                         "answerA": answers[0], "answerB": answers[1], "answerC": answers[2]})
            labels.append(str(answers.index(right) + 1))
        _write_jsonl(out / "siqa" / f"{split}.jsonl", rows)
        _write(out / "siqa" / f"{split}-labels.lst", "\n".join(labels) + "\n")


def _copa_row(sents: dict, item: tuple, name: str, idx: int, label: int) -> dict:
    """One COPA row for ``item``; ``label`` is the position (0 or 1) of the right choice."""
    premise, question, right, wrong = (sents[k].format(n=name) if k in sents else k for k in item)
    choices = [wrong, right] if label else [right, wrong]
    return {"premise": premise, "choice1": choices[0], "choice2": choices[1],
            "question": question, "label": label, "idx": idx}


def make_copa(out: Path) -> None:
    """SuperGLUE COPA: train (40), val (10), test (10, unlabelled as in SuperGLUE)."""
    rng = random.Random(808)
    sents = {**{k: v for k, v in COPA["en"].items() if k != "names"}, **EN_COPA_EXTRA}
    pairs = [(item, name) for item in EN_COPA_ITEMS for name in EN_NAMES]
    rng.shuffle(pairs)
    start = 0
    for split, count in (("train", 40), ("val", 10), ("test", 10)):
        rows = [_copa_row(sents, item, name, idx, rng.randrange(2))
                for idx, (item, name) in enumerate(pairs[start:start + count])]
        start += count
        if split == "test":
            for r in rows:
                del r["label"]
        _write_jsonl(out / "copa" / f"{split}.jsonl", rows)


def make_xcopa(out: Path) -> None:
    """XCOPA: {val,test}.{lang}.jsonl, 6 parallel items per split and language."""
    for split, seed in (("val", 909), ("test", 910)):
        rng = random.Random(seed)
        draws = [(item, rng.randrange(6), rng.randrange(2)) for item in COPA_ITEMS]
        rng.shuffle(draws)
        for lang in XCOPA_LANGS:
            L = COPA[lang]
            rows = []
            for idx, (item, who, label) in enumerate(draws):
                row = _copa_row(L, item, L["names"][who], idx, label)
                row["changed"] = False
                rows.append(row)
            _write_jsonl(out / "xcopa" / f"{split}.{lang}.jsonl", rows)


def main(argv: list[str]) -> None:
    """Write every tiny dataset under OUT_DIR (default: the package's presets/tiny_data)."""
    out = Path(argv[0]) if argv else OUT
    for make in (make_squad, make_xquad, make_tydiqa, make_mnli, make_xnli, make_siqa,
                 make_copa, make_xcopa):
        make(out)
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {sum(1 for f in out.rglob('*') if f.is_file())} files, {total / 1024:.0f} KiB, to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
