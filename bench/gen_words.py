"""Names, titles, journals and lenders for `bench/generate.py`: the vocabulary the SQL draws from.

Everything here is plain data (lists of tuples) plus `lenders()`, which builds the lending
institutions and their fee schedules deterministically from a seed. No word contains a character
that HTML escapes (& < > " '), so a title reads the same in the text and the HTML of an e-mail.
"""

import random

# (kanji, kana, romaji)
SURNAMES = [
    ("佐藤", "サトウ", "Sato"),
    ("鈴木", "スズキ", "Suzuki"),
    ("高橋", "タカハシ", "Takahashi"),
    ("田中", "タナカ", "Tanaka"),
    ("伊藤", "イトウ", "Ito"),
    ("渡辺", "ワタナベ", "Watanabe"),
    ("山本", "ヤマモト", "Yamamoto"),
    ("中村", "ナカムラ", "Nakamura"),
    ("小林", "コバヤシ", "Kobayashi"),
    ("加藤", "カトウ", "Kato"),
    ("吉田", "ヨシダ", "Yoshida"),
    ("山田", "ヤマダ", "Yamada"),
    ("佐々木", "ササキ", "Sasaki"),
    ("山口", "ヤマグチ", "Yamaguchi"),
    ("松本", "マツモト", "Matsumoto"),
    ("井上", "イノウエ", "Inoue"),
    ("木村", "キムラ", "Kimura"),
    ("林", "ハヤシ", "Hayashi"),
    ("斎藤", "サイトウ", "Saito"),
    ("清水", "シミズ", "Shimizu"),
    ("山崎", "ヤマザキ", "Yamazaki"),
    ("森", "モリ", "Mori"),
    ("池田", "イケダ", "Ikeda"),
    ("橋本", "ハシモト", "Hashimoto"),
    ("阿部", "アベ", "Abe"),
    ("石川", "イシカワ", "Ishikawa"),
    ("山下", "ヤマシタ", "Yamashita"),
    ("中島", "ナカジマ", "Nakajima"),
    ("石井", "イシイ", "Ishii"),
    ("小川", "オガワ", "Ogawa"),
    ("前田", "マエダ", "Maeda"),
    ("岡田", "オカダ", "Okada"),
    ("長谷川", "ハセガワ", "Hasegawa"),
    ("藤田", "フジタ", "Fujita"),
    ("後藤", "ゴトウ", "Goto"),
    ("近藤", "コンドウ", "Kondo"),
    ("村上", "ムラカミ", "Murakami"),
    ("遠藤", "エンドウ", "Endo"),
    ("青木", "アオキ", "Aoki"),
    ("坂本", "サカモト", "Sakamoto"),
    ("福田", "フクダ", "Fukuda"),
    ("太田", "オオタ", "Ota"),
    ("西村", "ニシムラ", "Nishimura"),
    ("藤井", "フジイ", "Fujii"),
    ("金子", "カネコ", "Kaneko"),
    ("岡本", "オカモト", "Okamoto"),
    ("藤原", "フジワラ", "Fujiwara"),
    ("中野", "ナカノ", "Nakano"),
    ("三浦", "ミウラ", "Miura"),
    ("原田", "ハラダ", "Harada"),
]

GIVEN_NAMES = [
    ("花子", "ハナコ", "Hanako"),
    ("一郎", "イチロウ", "Ichiro"),
    ("美咲", "ミサキ", "Misaki"),
    ("誠", "マコト", "Makoto"),
    ("由紀", "ユキ", "Yuki"),
    ("翔太", "ショウタ", "Shota"),
    ("陽菜", "ヒナ", "Hina"),
    ("大輔", "ダイスケ", "Daisuke"),
    ("結衣", "ユイ", "Yui"),
    ("健太", "ケンタ", "Kenta"),
    ("さくら", "サクラ", "Sakura"),
    ("拓也", "タクヤ", "Takuya"),
    ("愛", "アイ", "Ai"),
    ("直樹", "ナオキ", "Naoki"),
    ("真由美", "マユミ", "Mayumi"),
    ("蓮", "レン", "Ren"),
    ("葵", "アオイ", "Aoi"),
    ("悠斗", "ユウト", "Yuto"),
    ("彩", "アヤ", "Aya"),
    ("隆", "タカシ", "Takashi"),
    ("恵子", "ケイコ", "Keiko"),
    ("浩", "ヒロシ", "Hiroshi"),
    ("智子", "トモコ", "Tomoko"),
    ("修", "オサム", "Osamu"),
    ("優子", "ユウコ", "Yuko"),
    ("和也", "カズヤ", "Kazuya"),
    ("明美", "アケミ", "Akemi"),
    ("亮", "リョウ", "Ryo"),
    ("千尋", "チヒロ", "Chihiro"),
    ("聡", "サトシ", "Satoshi"),
    ("奈々", "ナナ", "Nana"),
    ("達也", "タツヤ", "Tatsuya"),
    ("舞", "マイ", "Mai"),
    ("学", "マナブ", "Manabu"),
    ("理恵", "リエ", "Rie"),
    ("慎一", "シンイチ", "Shinichi"),
    ("香織", "カオリ", "Kaori"),
    ("大翔", "ヒロト", "Hiroto"),
    ("美穂", "ミホ", "Miho"),
    ("剛", "ツヨシ", "Tsuyoshi"),
]

# International patrons: (romanised full name, katakana, given name, family name)
FOREIGN_NAMES = [
    ("Chen Wei", "チェン ウェイ", "Wei", "Chen"),
    ("Li Na", "リ ナ", "Na", "Li"),
    ("Wang Fang", "ワン ファン", "Fang", "Wang"),
    ("Zhang Min", "チャン ミン", "Min", "Zhang"),
    ("Kim Minjun", "キム ミンジュン", "Minjun", "Kim"),
    ("Park Jiyeon", "パク ジヨン", "Jiyeon", "Park"),
    ("Nguyen Van An", "グエン ヴァン アン", "An", "Nguyen"),
    ("Tran Thi Mai", "チャン ティ マイ", "Mai", "Tran"),
    ("Emily Johnson", "エミリー ジョンソン", "Emily", "Johnson"),
    ("Lukas Schmidt", "ルーカス シュミット", "Lukas", "Schmidt"),
    ("Sofia Rossi", "ソフィア ロッシ", "Sofia", "Rossi"),
    ("Ahmad Rahman", "アフマド ラフマン", "Ahmad", "Rahman"),
    ("Priya Sharma", "プリヤ シャルマ", "Priya", "Sharma"),
    ("Maria Garcia", "マリア ガルシア", "Maria", "Garcia"),
    ("David Smith", "デイヴィッド スミス", "David", "Smith"),
    ("Siti Aminah", "シティ アミナ", "Siti", "Aminah"),
    ("Olga Ivanova", "オリガ イワノワ", "Olga", "Ivanova"),
    ("Juan Perez", "フアン ペレス", "Juan", "Perez"),
    ("Anna Kowalska", "アンナ コワルスカ", "Anna", "Kowalska"),
    ("Tanawat Srisuk", "タナワット シースック", "Tanawat", "Srisuk"),
]

WESTERN_AUTHORS = [
    "Smith, J.",
    "Hastie, T.",
    "Johnson, M.",
    "Brown, A.",
    "Miller, R.",
    "Davis, K.",
    "Wilson, P.",
    "Moore, S.",
    "Taylor, L.",
    "Anderson, D.",
    "Thomas, C.",
    "Jackson, E.",
    "White, H.",
    "Harris, N.",
    "Martin, G.",
    "Thompson, B.",
    "Clark, F.",
    "Lewis, W.",
    "Walker, V.",
    "Hall, O.",
    "Young, Y.",
    "Allen, I.",
    "King, T.",
    "Wright, Q.",
    "Scott, U.",
]

# (Japanese, English) subjects of titles
TOPICS = [
    ("日本語", "Japanese language"),
    ("統計学", "statistics"),
    ("機械学習", "machine learning"),
    ("情報検索", "information retrieval"),
    ("近代日本史", "modern Japanese history"),
    ("量子力学", "quantum mechanics"),
    ("分子生物学", "molecular biology"),
    ("憲法", "constitutional law"),
    ("経済学", "economics"),
    ("社会学", "sociology"),
    ("認知科学", "cognitive science"),
    ("地域医療", "community medicine"),
    ("臨床薬理学", "clinical pharmacology"),
    ("有機化学", "organic chemistry"),
    ("環境工学", "environmental engineering"),
    ("教育心理学", "educational psychology"),
    ("図書館情報学", "library and information science"),
    ("言語学", "linguistics"),
    ("日本文学", "Japanese literature"),
    ("比較政治学", "comparative politics"),
    ("公衆衛生", "public health"),
    ("免疫学", "immunology"),
    ("農業経済", "agricultural economics"),
    ("土木工学", "civil engineering"),
    ("計算機科学", "computer science"),
    ("哲学", "philosophy"),
    ("考古学", "archaeology"),
    ("国際関係論", "international relations"),
    ("材料科学", "materials science"),
    ("神経科学", "neuroscience"),
    ("看護学", "nursing"),
    ("民法", "civil law"),
    ("会計学", "accounting"),
    ("都市計画", "urban planning"),
    ("海洋学", "oceanography"),
    ("遺伝学", "genetics"),
    ("音韻論", "phonology"),
    ("中世史", "medieval history"),
    ("データベース", "databases"),
    ("ロボット工学", "robotics"),
]

JP_NOUNS = [
    "基礎",
    "歴史",
    "理論",
    "方法",
    "研究",
    "入門",
    "展開",
    "現在",
    "課題",
    "実践",
    "原理",
    "構造",
    "思想",
    "講義",
    "手引き",
    "論集",
    "再考",
    "展望",
    "技法",
    "世界",
]

JP_SUBTITLES = [
    "新しい視点から",
    "理論と実践",
    "歴史的考察",
    "事例研究",
    "国際比較の試み",
    "基礎から応用まで",
    "課題と展望",
    "方法論的検討",
    "戦後七十年の歩み",
    "地域からの問い",
]

EN_PATTERNS = [
    "Introduction to %s",
    "Foundations of %s",
    "A history of %s",
    "Handbook of %s",
    "Principles of %s",
    "Essays on %s",
    "Advances in %s",
    "Rethinking %s",
    "Methods in %s",
    "Elements of %s",
    "Perspectives on %s",
    "Studies in %s",
]

# What an article is about (Japanese, English)
ASPECTS = [
    ("長期的変化", "long-term change"),
    ("地域差", "regional variation"),
    ("測定誤差", "measurement error"),
    ("早期発見", "early detection"),
    ("政策評価", "policy evaluation"),
    ("社会的要因", "social factors"),
    ("ネットワーク構造", "network structure"),
    ("質的分析", "qualitative analysis"),
    ("教育効果", "educational effects"),
    ("リスク要因", "risk factors"),
    ("数値シミュレーション", "numerical simulation"),
    ("比較分析", "comparative analysis"),
    ("文献調査", "a literature review"),
    ("実証分析", "empirical analysis"),
    ("設計手法", "design methods"),
]

PUBLISHERS_JA = [
    "岩波書店",
    "有斐閣",
    "東京大学出版会",
    "勁草書房",
    "講談社",
    "中央公論新社",
    "朝倉書店",
    "共立出版",
    "みすず書房",
    "医学書院",
    "南江堂",
    "吉川弘文館",
    "丸善出版",
    "ミネルヴァ書房",
    "名古屋大学出版会",
]
PUBLISHERS_EN = [
    "Oxford University Press",
    "Cambridge University Press",
    "Springer",
    "Routledge",
    "MIT Press",
    "Elsevier",
    "Wiley",
    "University of Chicago Press",
    "Princeton University Press",
    "Academic Press",
]

JOURNALS = [
    "情報処理学会論文誌",
    "日本医事新報",
    "図書館雑誌",
    "史学雑誌",
    "心理学研究",
    "社会学評論",
    "日本建築学会計画系論文集",
    "薬学雑誌",
    "法律時報",
    "経済研究",
    "国語と国文学",
    "教育心理学研究",
    "看護研究",
    "日本内科学会雑誌",
    "土木学会論文集",
    "応用物理",
    "化学と工業",
    "農業経済研究",
    "言語研究",
    "思想",
    "Journal of the American Chemical Society",
    "The Lancet",
    "Journal of Documentation",
    "Physical Review B",
    "Cell Reports",
    "American Economic Review",
    "Journal of Asian Studies",
    "Linguistic Inquiry",
    "IEEE Transactions on Knowledge and Data Engineering",
    "Journal of Clinical Investigation",
    "Sociological Review",
    "Journal of Hydrology",
    "Neuron",
    "BMJ",
    "Journal of Japanese Studies",
    "Monumenta Nipponica",
    "Information Processing and Management",
    "Annals of Internal Medicine",
    "Journal of Biological Chemistry",
    "Applied Physics Letters",
]

# (code, Japanese, English) faculties of the laboratories; MED labs pick up at the medical library
DEPARTMENTS = [
    ("ENG", "工学部", "Engineering"),
    ("MED", "医学部", "Medicine"),
    ("SCI", "理学部", "Science"),
    ("LET", "文学部", "Letters"),
    ("LAW", "法学部", "Law"),
    ("ECO", "経済学部", "Economics"),
    ("EDU", "教育学部", "Education"),
    ("AGR", "農学部", "Agriculture"),
]

BLOCK_REASONS = [
    "延滞資料の返却がないため / an overdue item has not been returned",
    "他館資料の汚損のため / damage to a borrowed item",
    "利用規程違反のため / breach of the library rules",
]

EXTENSION_REASONS = ["研究のため引き続き必要です", "論文執筆のため", "査読対応のため", "ゼミ発表の準備のため", ""]
UNFILLED_ANSWERS = ["所蔵なし", "貸出中", "利用制限あり", "欠号", "製本中のため提供不可", "Not held", ""]
REQUEST_NOTES = [
    "",
    "",
    "",
    "",
    "他の版でも可",
    "急ぎではありません",
    "学位論文の執筆に必要です",
    "Needed for a seminar",
]

_PLACES = [
    ("北海", "Hokkai"),
    ("東北", "Tohoku"),
    ("筑波", "Tsukuba"),
    ("千葉", "Chiba"),
    ("横浜", "Yokohama"),
    ("新潟", "Niigata"),
    ("金沢", "Kanazawa"),
    ("信州", "Shinshu"),
    ("静岡", "Shizuoka"),
    ("名古屋", "Nagoya"),
    ("三重", "Mie"),
    ("京都", "Kyoto"),
    ("大阪", "Osaka"),
    ("神戸", "Kobe"),
    ("岡山", "Okayama"),
    ("広島", "Hiroshima"),
    ("山口", "Yamaguchi"),
    ("徳島", "Tokushima"),
    ("香川", "Kagawa"),
    ("愛媛", "Ehime"),
    ("高知", "Kochi"),
    ("九州", "Kyushu"),
    ("佐賀", "Saga"),
    ("長崎", "Nagasaki"),
    ("熊本", "Kumamoto"),
    ("大分", "Oita"),
    ("宮崎", "Miyazaki"),
    ("鹿児島", "Kagoshima"),
    ("琉球", "Ryukyu"),
    ("弘前", "Hirosaki"),
    ("岩手", "Iwate"),
    ("秋田", "Akita"),
    ("山形", "Yamagata"),
    ("福島", "Fukushima"),
    ("茨城", "Ibaraki"),
    ("宇都宮", "Utsunomiya"),
    ("群馬", "Gunma"),
    ("埼玉", "Saitama"),
    ("富山", "Toyama"),
    ("福井", "Fukui"),
    ("山梨", "Yamanashi"),
    ("岐阜", "Gifu"),
    ("滋賀", "Shiga"),
    ("奈良", "Nara"),
    ("和歌山", "Wakayama"),
    ("島根", "Shimane"),
    ("鳥取", "Tottori"),
]
_UNIVERSITY_KINDS = [
    ("", ""),
    ("工業", "Institute of Technology"),
    ("医科", "Medical University"),
    ("教育", "University of Education"),
    ("外国語", "University of Foreign Studies"),
    ("県立", "Prefectural University"),
    ("市立", "City University"),
    ("薬科", "Pharmaceutical University"),
    ("経済", "University of Economics"),
    ("学芸", "Gakugei University"),
]
_RESEARCH_FIELDS = [
    ("農業", "Agricultural"),
    ("水産", "Fisheries"),
    ("医学", "Medical"),
    ("工業技術", "Industrial Technology"),
    ("環境", "Environmental"),
    ("地質", "Geological"),
    ("気象", "Meteorological"),
    ("防災", "Disaster Prevention"),
    ("文化財", "Cultural Properties"),
    ("社会科学", "Social Science"),
]
_REGIONS = [
    ("北海道", "Hokkaido"),
    ("東京都", "Tokyo"),
    ("愛知県", "Aichi"),
    ("大阪府", "Osaka"),
    ("福岡県", "Fukuoka"),
    ("宮城県", "Miyagi"),
    ("広島県", "Hiroshima"),
    ("京都府", "Kyoto"),
    ("兵庫県", "Hyogo"),
    ("新潟県", "Niigata"),
    ("静岡県", "Shizuoka"),
    ("熊本県", "Kumamoto"),
]
_OVERSEAS = [
    ("Library of Congress", "US"),
    ("National Library of Australia", "AU"),
    ("Bibliotheque nationale de France", "FR"),
    ("Deutsche Nationalbibliothek", "DE"),
    ("National Library of Korea", "KR"),
    ("National Central Library", "TW"),
    ("Harvard Library", "US"),
    ("Yale University Library", "US"),
    ("Cambridge University Library", "GB"),
    ("Leiden University Libraries", "NL"),
    ("National Library of China", "CN"),
    ("Columbia University Libraries", "US"),
    ("SOAS Library", "GB"),
    ("University of Hawaii at Manoa Library", "US"),
    ("Stanford University Libraries", "US"),
    ("Koninklijke Bibliotheek", "NL"),
    ("National Library Board Singapore", "SG"),
    ("University of Toronto Libraries", "CA"),
    ("Australian National University Library", "AU"),
    ("Bodleian Libraries", "GB"),
]
_OTHERS = [
    ("日本医師会 医学図書館", "Japan Medical Association Library"),
    ("日本銀行金融研究所 図書室", "Bank of Japan IMES Library"),
    ("日本規格協会 資料室", "Japanese Standards Association Library"),
    ("国際交流基金 図書館", "Japan Foundation Library"),
    ("アジア経済研究所図書館", "IDE-JETRO Library"),
    ("大宅壮一文庫", "Oya Soichi Library"),
    ("東洋文庫", "Toyo Bunko"),
    ("日本近代文学館", "Museum of Modern Japanese Literature"),
    ("日本看護協会 図書館", "Japanese Nursing Association Library"),
    ("電力中央研究所 図書室", "CRIEPI Library"),
    ("日本経済団体連合会 資料室", "Keidanren Library"),
    ("放送文化研究所 資料室", "NHK Broadcasting Culture Research Institute Library"),
    ("日本建築学会 図書館", "Architectural Institute of Japan Library"),
    ("土木学会 附属土木図書館", "JSCE Library"),
    ("日本化学会 資料室", "Chemical Society of Japan Library"),
]

# Shares of the generated lenders by kind (the demo's five come on top).
KIND_SHARES = [("jp_university", 0.72), ("jp_research", 0.13), ("regional", 0.03), ("overseas", 0.07), ("other", 0.05)]


def _universities():
    for kind_ja, kind_en in _UNIVERSITY_KINDS:
        for place_ja, place_en in _PLACES:
            english = f"{place_en} {kind_en} Library" if kind_en else f"{place_en} University Library"
            yield f"{place_ja}{kind_ja}大学附属図書館", english


def _research():
    for field_ja, field_en in _RESEARCH_FIELDS:
        for place_ja, place_en in _PLACES:
            yield f"{place_ja}{field_ja}研究所 図書室", f"{place_en} {field_en} Research Institute Library"


def _regional():
    for region_ja, region_en in _REGIONS:
        yield f"{region_ja}図書館相互貸借ネットワーク", f"{region_en} Library Network"


def _schedule(kind: str, offset: bool, rng: random.Random) -> dict:
    """A plausible fee schedule for a lender of this kind (prices include tax, as they usually do)."""
    s = {
        "mono_price": rng.choice([25, 30, 35, 40, 45, 50]),
        "colour_price": rng.choice([80, 100, 120, 150, 200]),
        "handling_fee_per_item": 0 if offset or rng.random() < 0.3 else rng.choice([100, 150, 200]),
        "postage_per_shipment": rng.choice([140, 180, 210, 250]),
        "express_surcharge": rng.choice([260, 300, 350]),
        "fax_fee_mode": "none",
        "fax_fee_per_page": 0,
        "fax_fee_fixed": 0,
        "bank_transfer_fee": 0 if offset else rng.choice([210, 330, 440]),
        "overseas_flat_fee_per_item": 0,
        "overseas_fax_surcharge": 0,
        "loan_fee_mode": "round_trip",
        "loan_fee": rng.choice([1200, 1400, 1600, 1800, 2000]),
        "loan_express_surcharge": 600,
    }
    if kind == "regional":
        s.update(mono_price=20, colour_price=50, loan_fee_mode="free", loan_fee=0, loan_express_surcharge=0)
    elif kind == "jp_research" and rng.random() < 0.3:
        s.update(loan_fee_mode="quote", loan_fee=0)
    elif kind == "overseas":
        s.update(
            mono_price=0,
            colour_price=0,
            postage_per_shipment=0,
            overseas_flat_fee_per_item=rng.choice([1500, 1800, 2000, 2500]),
            overseas_fax_surcharge=500,
            loan_fee_mode="quote",
            loan_fee=0,
            loan_express_surcharge=0,
        )
    elif kind == "other":
        s.update(loan_fee_mode=rng.choice(["quote", "round_trip"]))
        if s["loan_fee_mode"] == "quote":
            s["loan_fee"] = 0
    elif kind == "jp_university" and rng.random() < 0.1:
        s.update(loan_fee_mode="return_only", loan_fee=rng.choice([600, 800, 1000]))
    return s


def lenders(count: int, seed: int) -> list[dict]:
    """`count` lending institutions with their fee schedules, the same for the same seed."""
    rng = random.Random(seed)
    pools = {
        "jp_university": list(_universities()),
        "jp_research": list(_research()),
        "regional": list(_regional()),
        "overseas": [(name, name, country) for name, country in _OVERSEAS],
        "other": list(_OTHERS),
    }
    for names in pools.values():
        rng.shuffle(names)
    wanted = {kind: max(1, round(count * share)) for kind, share in KIND_SHARES}
    wanted["jp_university"] += count - sum(wanted.values())
    rows = []
    for kind, n in wanted.items():
        names = pools[kind]
        for i in range(n):
            name = names[i % len(names)]
            suffix = "" if i < len(names) else f" 分館{i // len(names)}"
            rows.append(_lender(kind, i, name, suffix, rng))
    rng.shuffle(rows)  # popularity is the order of this list, apart from the demo's lenders
    return rows


def _lender(kind: str, i: int, name: tuple, suffix: str, rng: random.Random) -> dict:
    offset = {"jp_university": 0.95, "jp_research": 0.5, "regional": 1.0, "overseas": 0.4, "other": 0.2}[kind]
    is_offset = rng.random() < offset
    supports_fax = kind != "regional" and rng.random() < 0.35
    schedule = _schedule(kind, is_offset, rng)
    if supports_fax and kind != "overseas":
        if rng.random() < 0.7:
            schedule.update(fax_fee_mode="per_page", fax_fee_per_page=rng.choice([40, 50, 60]))
        else:
            schedule.update(fax_fee_mode="fixed", fax_fee_fixed=rng.choice([300, 500]))
    prefix = {"jp_university": "FA", "jp_research": "RA", "regional": "RN", "overseas": "OS", "other": "OT"}[kind]
    return {
        "code": f"{prefix}{rng.randrange(100000, 999999)}{i:03d}"[:20],
        "name": name[0] + suffix,
        "name_en": name[1] + (f" (branch {suffix.strip()[-1]})" if suffix else ""),
        "kind": kind,
        "is_offset_participant": is_offset,
        "accepts_public_expense": is_offset,
        "supports_express": kind not in ("regional", "overseas") and rng.random() < 0.9,
        "supports_fax": supports_fax,
        "payment_methods": "" if is_offset else "銀行振込(前払い) / bank transfer in advance",
        "loan_period_days": {"overseas": 28, "regional": 14}.get(kind, rng.choice([14, 14, 21])),
        "country": name[2] if kind == "overseas" else "JP",
        "active": rng.random() > 0.02,
        "a3": (70, 200) if kind == "jp_university" and rng.random() < 0.2 else None,
        "schedule": schedule,
    }
