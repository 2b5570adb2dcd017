//! The slice of Shopify's Admin GraphQL schema the test server serves, written
//! as SDL from shopify.dev's reference pages, and the lookups the validator,
//! the cost calculator and the executor need.
//!
//! Two schemas are built: one for API versions from 2026-04 on (where
//! `InventoryQuantityInput.changeFromQuantity` replaces `compareQuantity` and
//! `ignoreCompareQuantity`), and one for older versions. `@idempotent` exists
//! from 2026-01 on.

use std::collections::HashMap;
use std::sync::OnceLock;

use graphql_parser::schema as sdl;

/// A reference to a type, as written in a field or argument definition.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    pub fn named(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::List(inner) | TypeRef::NonNull(inner) => inner.named(),
        }
    }

    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }

    /// The type without its outer `!`.
    pub fn nullable(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(inner) => inner,
            other => other,
        }
    }

    pub fn display(&self) -> String {
        match self {
            TypeRef::Named(n) => n.clone(),
            TypeRef::List(inner) => format!("[{}]", inner.display()),
            TypeRef::NonNull(inner) => format!("{}!", inner.display()),
        }
    }

    pub fn from_ast<'a>(t: &sdl::Type<'a, String>) -> TypeRef {
        match t {
            sdl::Type::NamedType(n) => TypeRef::Named(n.clone()),
            sdl::Type::ListType(inner) => TypeRef::List(Box::new(TypeRef::from_ast(inner))),
            sdl::Type::NonNullType(inner) => TypeRef::NonNull(Box::new(TypeRef::from_ast(inner))),
        }
    }

    pub fn from_query_ast<'a>(t: &graphql_parser::query::Type<'a, &'a str>) -> TypeRef {
        match t {
            graphql_parser::query::Type::NamedType(n) => TypeRef::Named((*n).to_owned()),
            graphql_parser::query::Type::ListType(inner) => TypeRef::List(Box::new(TypeRef::from_query_ast(inner))),
            graphql_parser::query::Type::NonNullType(inner) => {
                TypeRef::NonNull(Box::new(TypeRef::from_query_ast(inner)))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct InputValueDef {
    pub name: String,
    pub ty: TypeRef,
    pub default: Option<serde_json::Value>,
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub args: Vec<InputValueDef>,
    pub ty: TypeRef,
}

impl FieldDef {
    pub fn arg(&self, name: &str) -> Option<&InputValueDef> {
        self.args.iter().find(|a| a.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Scalar,
    Enum(Vec<String>),
    Object,
    Interface,
    InputObject,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: String,
    pub kind: Kind,
    pub fields: Vec<FieldDef>,
    pub input_fields: Vec<InputValueDef>,
    pub interfaces: Vec<String>,
}

impl TypeDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn input_field(&self, name: &str) -> Option<&InputValueDef> {
        self.input_fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug)]
pub struct Schema {
    pub types: HashMap<String, TypeDef>,
    /// Interface name -> the object types implementing it.
    pub implementors: HashMap<String, Vec<String>>,
    pub has_idempotent_directive: bool,
    /// 2026-04 and later: `changeFromQuantity` and a mandatory `@idempotent`.
    pub modern_inventory: bool,
}

impl Schema {
    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    pub fn kind(&self, name: &str) -> Option<&Kind> {
        self.types.get(name).map(|t| &t.kind)
    }

    pub fn is_composite(&self, name: &str) -> bool {
        matches!(self.kind(name), Some(Kind::Object | Kind::Interface))
    }

    pub fn is_leaf(&self, name: &str) -> bool {
        matches!(self.kind(name), Some(Kind::Scalar | Kind::Enum(_)))
    }

    /// Whether an object of type `concrete` satisfies a fragment on `condition`.
    pub fn type_applies(&self, condition: &str, concrete: &str) -> bool {
        condition == concrete
            || self
                .implementors
                .get(condition)
                .is_some_and(|list| list.iter().any(|t| t == concrete))
    }

    /// The object types a value of type `name` can be.
    pub fn possible_types(&self, name: &str) -> Vec<String> {
        match self.kind(name) {
            Some(Kind::Interface) => self.implementors.get(name).cloned().unwrap_or_default(),
            _ => vec![name.to_owned()],
        }
    }

    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldDef> {
        self.types.get(type_name).and_then(|t| t.field(field))
    }

    pub fn is_connection(&self, type_name: &str) -> bool {
        type_name.ends_with("Connection") && self.is_composite(type_name)
    }
}

const BUILTIN_SCALARS: [&str; 5] = ["ID", "String", "Int", "Float", "Boolean"];

/// The schema served for `version` ("2026-10", "unstable", ...). `None` when
/// the version is not one this server knows (the caller answers 404).
pub fn for_version(version: &str) -> Option<&'static Schema> {
    static MODERN: OnceLock<Schema> = OnceLock::new();
    static TRANSITION: OnceLock<Schema> = OnceLock::new();
    static LEGACY: OnceLock<Schema> = OnceLock::new();
    let v = version_rank(version)?;
    if v >= version_rank("2026-04")? {
        Some(MODERN.get_or_init(|| build(true, true)))
    } else if v >= version_rank("2026-01")? {
        Some(TRANSITION.get_or_init(|| build(false, true)))
    } else {
        Some(LEGACY.get_or_init(|| build(false, false)))
    }
}

/// Orders API versions; `unstable` sorts after every dated release.
pub fn version_rank(version: &str) -> Option<u32> {
    if version == "unstable" {
        return Some(u32::MAX);
    }
    let (year, month) = version.split_once('-')?;
    if year.len() != 4 || month.len() != 2 {
        return None;
    }
    let year: u32 = year.parse().ok()?;
    let month: u32 = month.parse().ok()?;
    // Shopify releases quarterly; the versions served are 2025-01 to 2027-01.
    if !matches!(month, 1 | 4 | 7 | 10) || !(2025..=2027).contains(&year) {
        return None;
    }
    if year == 2027 && month > 1 {
        return None;
    }
    Some(year * 100 + month)
}

fn build(modern: bool, idempotent: bool) -> Schema {
    let mut text = String::from(BASE_SDL);
    // `productUpdate(identifier:)` exists from 2026-04 on.
    text = text.replace(
        "__PRODUCT_UPDATE_IDENTIFIER__",
        if modern {
            ", identifier: ProductUpdateIdentifiers"
        } else {
            ""
        },
    );
    if modern {
        text.push_str(MODERN_INVENTORY_SDL);
        text.push_str("input ProductUpdateIdentifiers {\n  id: ID\n  handle: String\n}\n");
    } else if idempotent {
        text.push_str(TRANSITION_INVENTORY_SDL);
    } else {
        text.push_str(LEGACY_INVENTORY_SDL);
    }
    if idempotent {
        text.push_str("directive @idempotent(key: String!) on FIELD\n");
    }
    let doc = sdl::parse_schema::<String>(&text).expect("the built-in schema SDL parses");
    let mut types = HashMap::new();
    for name in BUILTIN_SCALARS {
        types.insert(
            name.to_owned(),
            TypeDef {
                name: name.to_owned(),
                kind: Kind::Scalar,
                fields: Vec::new(),
                input_fields: Vec::new(),
                interfaces: Vec::new(),
            },
        );
    }
    for def in &doc.definitions {
        let sdl::Definition::TypeDefinition(td) = def else {
            continue;
        };
        let t = match td {
            sdl::TypeDefinition::Scalar(s) => TypeDef {
                name: s.name.clone(),
                kind: Kind::Scalar,
                fields: Vec::new(),
                input_fields: Vec::new(),
                interfaces: Vec::new(),
            },
            sdl::TypeDefinition::Enum(e) => TypeDef {
                name: e.name.clone(),
                kind: Kind::Enum(e.values.iter().map(|v| v.name.clone()).collect()),
                fields: Vec::new(),
                input_fields: Vec::new(),
                interfaces: Vec::new(),
            },
            sdl::TypeDefinition::Object(o) => TypeDef {
                name: o.name.clone(),
                kind: Kind::Object,
                fields: o.fields.iter().map(field_def).collect(),
                input_fields: Vec::new(),
                interfaces: o.implements_interfaces.clone(),
            },
            sdl::TypeDefinition::Interface(i) => TypeDef {
                name: i.name.clone(),
                kind: Kind::Interface,
                fields: i.fields.iter().map(field_def).collect(),
                input_fields: Vec::new(),
                interfaces: Vec::new(),
            },
            sdl::TypeDefinition::InputObject(i) => TypeDef {
                name: i.name.clone(),
                kind: Kind::InputObject,
                fields: Vec::new(),
                input_fields: i.fields.iter().map(input_value_def).collect(),
                interfaces: Vec::new(),
            },
            sdl::TypeDefinition::Union(_) => continue,
        };
        types.insert(t.name.clone(), t);
    }
    let mut implementors: HashMap<String, Vec<String>> = HashMap::new();
    for t in types.values() {
        for i in &t.interfaces {
            implementors.entry(i.clone()).or_default().push(t.name.clone());
        }
    }
    for list in implementors.values_mut() {
        list.sort();
    }
    Schema {
        types,
        implementors,
        has_idempotent_directive: idempotent,
        modern_inventory: modern,
    }
}

fn field_def(f: &sdl::Field<'_, String>) -> FieldDef {
    FieldDef {
        name: f.name.clone(),
        args: f.arguments.iter().map(input_value_def).collect(),
        ty: TypeRef::from_ast(&f.field_type),
    }
}

fn input_value_def(v: &sdl::InputValue<'_, String>) -> InputValueDef {
    InputValueDef {
        name: v.name.clone(),
        ty: TypeRef::from_ast(&v.value_type),
        default: v.default_value.as_ref().map(const_value),
    }
}

fn const_value(v: &sdl::Value<'_, String>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        sdl::Value::Int(n) => J::from(n.as_i64().unwrap_or_default()),
        sdl::Value::Float(f) => J::from(*f),
        sdl::Value::String(s) => J::from(s.clone()),
        sdl::Value::Boolean(b) => J::from(*b),
        sdl::Value::Null | sdl::Value::Variable(_) => J::Null,
        sdl::Value::Enum(e) => J::from(e.clone()),
        sdl::Value::List(l) => J::Array(l.iter().map(const_value).collect()),
        sdl::Value::Object(o) => J::Object(o.iter().map(|(k, v)| (k.clone(), const_value(v))).collect()),
    }
}

const MODERN_INVENTORY_SDL: &str = r#"
input InventorySetQuantitiesInput {
  reason: String!
  name: String!
  referenceDocumentUri: String
  quantities: [InventoryQuantityInput!]!
}
input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  changeFromQuantity: Int
}
"#;

const TRANSITION_INVENTORY_SDL: &str = r#"
input InventorySetQuantitiesInput {
  reason: String!
  name: String!
  referenceDocumentUri: String
  ignoreCompareQuantity: Boolean = false
  quantities: [InventoryQuantityInput!]!
}
input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  compareQuantity: Int
  changeFromQuantity: Int
}
"#;

const LEGACY_INVENTORY_SDL: &str = r#"
input InventorySetQuantitiesInput {
  reason: String!
  name: String!
  referenceDocumentUri: String
  ignoreCompareQuantity: Boolean = false
  quantities: [InventoryQuantityInput!]!
}
input InventoryQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  compareQuantity: Int
}
"#;

const BASE_SDL: &str = r#"
scalar DateTime
scalar Money
scalar Decimal
scalar URL
scalar HTML
scalar UnsignedInt64

interface Node {
  id: ID!
}

interface ProductOperation {
  product: Product
  status: ProductOperationStatus!
}

type QueryRoot {
  shop: Shop!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
  location(id: ID): Location
  locations(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: LocationSortKeys = NAME, query: String, includeLegacy: Boolean = false, includeInactive: Boolean = false): LocationConnection!
  product(id: ID!): Product
  products(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: ProductSortKeys = ID, query: String): ProductConnection!
  productVariant(id: ID!): ProductVariant
  productVariants(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: ProductVariantSortKeys = ID, query: String): ProductVariantConnection!
  productOperation(id: ID!): ProductOperation
  inventoryItem(id: ID!): InventoryItem
  inventoryLevel(id: ID!): InventoryLevel
  order(id: ID!): Order
  orders(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: OrderSortKeys = PROCESSED_AT, query: String): OrderConnection!
  webhookSubscription(id: ID!): WebhookSubscription
  webhookSubscriptions(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, query: String, topics: [WebhookSubscriptionTopic!]): WebhookSubscriptionConnection!
}

type Mutation {
  productSet(input: ProductSetInput!, synchronous: Boolean = true, identifier: ProductSetIdentifiers): ProductSetPayload
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  inventoryActivate(inventoryItemId: ID!, locationId: ID!, available: Int, onHand: Int, stockAtLegacyLocation: Boolean = false): InventoryActivatePayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!, webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
  productUpdate(input: ProductInput, product: ProductUpdateInput, media: [CreateMediaInput!]__PRODUCT_UPDATE_IDENTIFIER__): ProductUpdatePayload
  productDelete(input: ProductDeleteInput!, synchronous: Boolean = true): ProductDeletePayload
}

type Shop implements Node {
  id: ID!
  name: String!
  myshopifyDomain: String!
  currencyCode: CurrencyCode!
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type Count {
  count: Int!
  precision: CountPrecision!
}

type Location implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  isActive: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
}
type LocationConnection {
  edges: [LocationEdge!]!
  nodes: [Location!]!
  pageInfo: PageInfo!
}
type LocationEdge {
  cursor: String!
  node: Location!
}

type Product implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  handle: String!
  status: ProductStatus!
  vendor: String!
  productType: String!
  descriptionHtml: HTML!
  tags: [String!]!
  createdAt: DateTime!
  updatedAt: DateTime!
  totalInventory: Int!
  tracksInventory: Boolean!
  hasOnlyDefaultVariant: Boolean!
  options(first: Int): [ProductOption!]!
  variants(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: ProductVariantSortKeys = POSITION): ProductVariantConnection!
  variantsCount: Count
  media(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, sortKey: ProductMediaSortKeys = POSITION, query: String): MediaConnection!
  mediaCount: Count
  featuredMedia: Media
}
type ProductConnection {
  edges: [ProductEdge!]!
  nodes: [Product!]!
  pageInfo: PageInfo!
}
type ProductEdge {
  cursor: String!
  node: Product!
}

type ProductOption implements Node {
  id: ID!
  name: String!
  position: Int!
  values: [String!]!
  optionValues: [ProductOptionValue!]!
}
type ProductOptionValue implements Node {
  id: ID!
  name: String!
  hasVariants: Boolean!
}

type ProductVariant implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  title: String!
  displayName: String!
  sku: String
  barcode: String
  price: Money!
  compareAtPrice: Money
  position: Int!
  inventoryQuantity: Int
  createdAt: DateTime!
  updatedAt: DateTime!
  product: Product!
  inventoryItem: InventoryItem!
  selectedOptions: [SelectedOption!]!
}
type ProductVariantConnection {
  edges: [ProductVariantEdge!]!
  nodes: [ProductVariant!]!
  pageInfo: PageInfo!
}
type ProductVariantEdge {
  cursor: String!
  node: ProductVariant!
}
type SelectedOption {
  name: String!
  value: String!
  optionValue: ProductOptionValue!
}

type InventoryItem implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  sku: String
  tracked: Boolean!
  requiresShipping: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  measurement: InventoryItemMeasurement!
  variant: ProductVariant!
  inventoryLevel(locationId: ID!, includeInactive: Boolean = false): InventoryLevel
  inventoryLevels(first: Int, after: String, last: Int, before: String, reverse: Boolean = false, includeInactive: Boolean = false, query: String): InventoryLevelConnection!
}
type InventoryItemMeasurement implements Node {
  id: ID!
  weight: Weight
}
type Weight {
  unit: WeightUnit!
  value: Float!
}
type InventoryLevel implements Node {
  id: ID!
  isActive: Boolean!
  createdAt: DateTime!
  updatedAt: DateTime!
  item: InventoryItem!
  location: Location!
  quantities(names: [String!]!): [InventoryQuantity!]!
}
type InventoryLevelConnection {
  edges: [InventoryLevelEdge!]!
  nodes: [InventoryLevel!]!
  pageInfo: PageInfo!
}
type InventoryLevelEdge {
  cursor: String!
  node: InventoryLevel!
}
type InventoryQuantity implements Node {
  id: ID!
  name: String!
  quantity: Int!
  updatedAt: DateTime
}

type InventoryAdjustmentGroup implements Node {
  id: ID!
  createdAt: DateTime!
  reason: String!
  referenceDocumentUri: String
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}
type InventoryChange {
  name: String!
  delta: Int!
  quantityAfterChange: Int
  ledgerDocumentUri: String
  item: InventoryItem
  location: Location
}

type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}
type InventorySetQuantitiesUserError {
  code: InventorySetQuantitiesUserErrorCode
  field: [String!]
  message: String!
}

type InventoryActivatePayload {
  inventoryLevel: InventoryLevel
  userErrors: [UserError!]!
}
type UserError {
  field: [String!]
  message: String!
}

type ProductSetPayload {
  product: Product
  productSetOperation: ProductSetOperation
  userErrors: [ProductSetUserError!]!
}
type ProductSetUserError {
  code: ProductSetUserErrorCode
  field: [String!]
  message: String!
}
type ProductSetOperation implements Node & ProductOperation {
  id: ID!
  product: Product
  status: ProductOperationStatus!
  userErrors: [ProductSetUserError!]!
}

type ProductUpdatePayload {
  product: Product
  userErrors: [UserError!]!
}
type ProductDeletePayload {
  deletedProductId: ID
  productDeleteOperation: ProductDeleteOperation
  shop: Shop!
  userErrors: [UserError!]!
}
type ProductDeleteOperation implements Node & ProductOperation {
  deletedProductId: ID
  id: ID!
  product: Product
  status: ProductOperationStatus!
  userErrors: [UserError!]!
}

interface Media {
  alt: String
  id: ID!
  mediaContentType: MediaContentType!
  mediaErrors: [MediaError!]!
  mediaWarnings: [MediaWarning!]!
  preview: MediaPreviewImage
  status: MediaStatus!
}
interface File {
  alt: String
  createdAt: DateTime!
  fileErrors: [FileError!]!
  fileStatus: FileStatus!
  id: ID!
  preview: MediaPreviewImage
  updatedAt: DateTime!
}
type MediaConnection {
  edges: [MediaEdge!]!
  nodes: [Media!]!
  pageInfo: PageInfo!
}
type MediaEdge {
  cursor: String!
  node: Media!
}
type MediaImage implements File & Media & Node {
  alt: String
  createdAt: DateTime!
  fileErrors: [FileError!]!
  fileStatus: FileStatus!
  id: ID!
  image: Image
  mediaContentType: MediaContentType!
  mediaErrors: [MediaError!]!
  mediaWarnings: [MediaWarning!]!
  mimeType: String
  originalSource: MediaImageOriginalSource
  preview: MediaPreviewImage
  status: MediaStatus!
  updatedAt: DateTime!
}
type Video implements File & Media & Node {
  alt: String
  createdAt: DateTime!
  duration: Int
  fileErrors: [FileError!]!
  fileStatus: FileStatus!
  filename: String!
  id: ID!
  mediaContentType: MediaContentType!
  mediaErrors: [MediaError!]!
  mediaWarnings: [MediaWarning!]!
  originalSource: VideoSource
  preview: MediaPreviewImage
  sources: [VideoSource!]!
  status: MediaStatus!
  updatedAt: DateTime!
}
type VideoSource {
  fileSize: Int
  format: String!
  height: Int!
  mimeType: String!
  url: String!
  width: Int!
}
type ExternalVideo implements File & Media & Node {
  alt: String
  createdAt: DateTime!
  embedUrl: URL!
  fileErrors: [FileError!]!
  fileStatus: FileStatus!
  host: MediaHost!
  id: ID!
  mediaContentType: MediaContentType!
  mediaErrors: [MediaError!]!
  mediaWarnings: [MediaWarning!]!
  originUrl: URL!
  preview: MediaPreviewImage
  status: MediaStatus!
  updatedAt: DateTime!
}
type Model3d implements File & Media & Node {
  alt: String
  boundingBox: Model3dBoundingBox
  createdAt: DateTime!
  fileErrors: [FileError!]!
  fileStatus: FileStatus!
  filename: String!
  id: ID!
  mediaContentType: MediaContentType!
  mediaErrors: [MediaError!]!
  mediaWarnings: [MediaWarning!]!
  originalSource: Model3dSource
  preview: MediaPreviewImage
  sources: [Model3dSource!]!
  status: MediaStatus!
  updatedAt: DateTime!
}
type Model3dSource {
  filesize: Int!
  format: String!
  mimeType: String!
  url: String!
}
type Model3dBoundingBox {
  size: Vector3!
}
type Vector3 {
  x: Float!
  y: Float!
  z: Float!
}
type GenericFile implements File & Node {
  alt: String
  createdAt: DateTime!
  fileErrors: [FileError!]!
  fileStatus: FileStatus!
  id: ID!
  mimeType: String
  originalFileSize: Int
  preview: MediaPreviewImage
  updatedAt: DateTime!
  url: URL
}
type Image {
  altText: String
  height: Int
  id: ID
  url(transform: ImageTransformInput): URL!
  width: Int
}
input ImageTransformInput {
  crop: CropRegion
  maxWidth: Int
  maxHeight: Int
  scale: Int = 1
  preferredContentType: ImageContentType
}
type MediaImageOriginalSource {
  fileSize: Int
  url: URL
}
type MediaPreviewImage {
  image: Image
  status: MediaPreviewImageStatus!
}
type MediaError {
  code: MediaErrorCode!
  details: String
  message: String!
}
type FileError {
  code: FileErrorCode!
  details: String
  message: String!
}
type MediaWarning {
  code: MediaWarningCode!
  message: String
}

type WebhookSubscription implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  topic: WebhookSubscriptionTopic!
  uri: String!
  callbackUrl: URL!
  format: WebhookSubscriptionFormat!
  filter: String
  includeFields: [String!]!
  metafieldNamespaces: [String!]!
  name: String
  createdAt: DateTime!
  updatedAt: DateTime!
}
type WebhookSubscriptionConnection {
  edges: [WebhookSubscriptionEdge!]!
  nodes: [WebhookSubscription!]!
  pageInfo: PageInfo!
}
type WebhookSubscriptionEdge {
  cursor: String!
  node: WebhookSubscription!
}
type WebhookSubscriptionCreatePayload {
  userErrors: [UserError!]!
  webhookSubscription: WebhookSubscription
}

type Order implements Node {
  id: ID!
  legacyResourceId: UnsignedInt64!
  name: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  processedAt: DateTime!
  cancelledAt: DateTime
  closed: Boolean!
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  currencyCode: CurrencyCode!
  cancelReason: OrderCancelReason
  totalPriceSet: MoneyBag!
  subtotalPriceSet: MoneyBag
  currentTotalPriceSet: MoneyBag!
  currentSubtotalPriceSet: MoneyBag!
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false): LineItemConnection!
}
type OrderConnection {
  edges: [OrderEdge!]!
  nodes: [Order!]!
  pageInfo: PageInfo!
}
type OrderEdge {
  cursor: String!
  node: Order!
}
type LineItem implements Node {
  id: ID!
  name: String!
  title: String!
  sku: String
  quantity: Int!
  currentQuantity: Int!
  variant: ProductVariant
  product: Product
  originalUnitPriceSet: MoneyBag!
}
type LineItemConnection {
  edges: [LineItemEdge!]!
  nodes: [LineItem!]!
  pageInfo: PageInfo!
}
type LineItemEdge {
  cursor: String!
  node: LineItem!
}
type MoneyBag {
  shopMoney: MoneyV2!
  presentmentMoney: MoneyV2!
}
type MoneyV2 {
  amount: Decimal!
  currencyCode: CurrencyCode!
}

input ProductSetIdentifiers {
  id: ID
  handle: String
}
input ProductSetInput {
  id: ID
  title: String
  descriptionHtml: String
  handle: String
  vendor: String
  productType: String
  status: ProductStatus
  tags: [String!]
  templateSuffix: String
  category: ID
  collections: [ID!]
  requiresSellingPlan: Boolean
  productOptions: [OptionSetInput!]
  variants: [ProductVariantSetInput!]
  files: [FileSetInput!]
}
input FileSetInput {
  filename: String
  contentType: FileContentType
  alt: String
  duplicateResolutionMode: FileCreateInputDuplicateResolutionMode = APPEND_UUID
  id: ID
  originalSource: String
}
input OptionSetInput {
  id: ID
  name: String
  position: Int
  values: [OptionValueSetInput!]
}
input OptionValueSetInput {
  id: ID
  name: String
}
input ProductVariantSetInput {
  id: ID
  optionValues: [VariantOptionValueInput!]!
  price: Money
  compareAtPrice: Money
  sku: String
  barcode: String
  position: Int
  taxable: Boolean
  taxCode: String
  inventoryPolicy: ProductVariantInventoryPolicy
  inventoryQuantities: [ProductSetInventoryInput!]
  inventoryItem: InventoryItemInput
}
input VariantOptionValueInput {
  id: ID
  name: String
  optionId: ID
  optionName: String
}
input ProductSetInventoryInput {
  locationId: ID!
  name: String!
  quantity: Int!
}
input InventoryItemInput {
  sku: String
  cost: Decimal
  tracked: Boolean
  requiresShipping: Boolean
  harmonizedSystemCode: String
  measurement: InventoryItemMeasurementInput
}
input InventoryItemMeasurementInput {
  weight: WeightInput
}
input WeightInput {
  value: Float!
  unit: WeightUnit!
}
input ProductInput {
  descriptionHtml: String
  handle: String
  seo: SEOInput
  productType: String
  tags: [String!]
  templateSuffix: String
  giftCardTemplateSuffix: String
  title: String
  vendor: String
  category: ID
  giftCard: Boolean
  redirectNewHandle: Boolean
  collectionsToJoin: [ID!]
  collectionsToLeave: [ID!]
  id: ID
  status: ProductStatus
  requiresSellingPlan: Boolean
}
input ProductUpdateInput {
  descriptionHtml: String
  handle: String
  seo: SEOInput
  productType: String
  tags: [String!]
  templateSuffix: String
  giftCardTemplateSuffix: String
  title: String
  vendor: String
  category: ID
  redirectNewHandle: Boolean
  id: ID
  collectionsToJoin: [ID!]
  collectionsToLeave: [ID!]
  deleteConflictingConstrainedMetafields: Boolean = false
  status: ProductStatus
  requiresSellingPlan: Boolean
}
input SEOInput {
  title: String
  description: String
}
input CreateMediaInput {
  originalSource: String!
  alt: String
  mediaContentType: MediaContentType!
}
input ProductDeleteInput {
  id: ID!
}
input WebhookSubscriptionInput {
  uri: String
  callbackUrl: URL
  format: WebhookSubscriptionFormat
  includeFields: [String!]
  filter: String
  metafieldNamespaces: [String!]
  name: String
}

enum ProductStatus { ACTIVE ARCHIVED DRAFT UNLISTED }
enum ProductOperationStatus { CREATED ACTIVE COMPLETE }
enum ProductVariantInventoryPolicy { DENY CONTINUE }
enum WeightUnit { KILOGRAMS GRAMS POUNDS OUNCES }
enum CountPrecision { EXACT AT_LEAST }
enum CurrencyCode { USD EUR GBP CAD AUD NZD CHF SEK NOK DKK JPY PLN CZK }
enum LocationSortKeys { ID NAME RELEVANCE }
enum ProductSortKeys { CREATED_AT ID INVENTORY_TOTAL PRODUCT_TYPE PUBLISHED_AT RELEVANCE TITLE UPDATED_AT VENDOR }
enum ProductVariantSortKeys { FULL_TITLE ID INVENTORY_LEVELS_AVAILABLE INVENTORY_MANAGEMENT INVENTORY_POLICY INVENTORY_QUANTITY NAME POPULAR POSITION RELEVANCE SKU TITLE }
enum OrderSortKeys { CREATED_AT CURRENT_TOTAL_PRICE CUSTOMER_NAME DESTINATION FINANCIAL_STATUS FULFILLMENT_STATUS ID ORDER_NUMBER PO_NUMBER PROCESSED_AT RELEVANCE TOTAL_ITEMS_QUANTITY TOTAL_PRICE UPDATED_AT }
enum OrderDisplayFinancialStatus { PENDING AUTHORIZED PARTIALLY_PAID PARTIALLY_REFUNDED VOIDED PAID REFUNDED EXPIRED }
enum OrderDisplayFulfillmentStatus { UNFULFILLED PARTIALLY_FULFILLED FULFILLED RESTOCKED PENDING_FULFILLMENT OPEN IN_PROGRESS ON_HOLD SCHEDULED REQUEST_DECLINED }
enum WebhookSubscriptionFormat { JSON XML }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY STAFF OTHER }
enum MediaContentType { VIDEO EXTERNAL_VIDEO MODEL_3D IMAGE }
enum MediaStatus { UPLOADED PROCESSING READY FAILED }
enum FileStatus { UPLOADED PROCESSING READY FAILED }
enum MediaPreviewImageStatus { UPLOADED PROCESSING READY FAILED }
enum FileContentType { IMAGE FILE VIDEO EXTERNAL_VIDEO MODEL_3D }
enum FileCreateInputDuplicateResolutionMode { APPEND_UUID RAISE_ERROR REPLACE }
enum ProductMediaSortKeys { ID POSITION }
enum MediaHost { YOUTUBE VIMEO }
enum MediaWarningCode { MODEL_SMALL_PHYSICAL_SIZE MODEL_LARGE_PHYSICAL_SIZE MODEL_PREVIEW_IMAGE_FAIL }
enum CropRegion { CENTER TOP BOTTOM LEFT RIGHT }
enum ImageContentType { PNG JPG WEBP }
enum MediaErrorCode {
  UNKNOWN INVALID_SIGNED_URL IMAGE_DOWNLOAD_FAILURE IMAGE_PROCESSING_FAILURE MEDIA_TIMEOUT_ERROR
  EXTERNAL_VIDEO_NOT_FOUND EXTERNAL_VIDEO_UNLISTED EXTERNAL_VIDEO_INVALID_ASPECT_RATIO
  EXTERNAL_VIDEO_EMBED_DISABLED EXTERNAL_VIDEO_EMBED_NOT_FOUND_OR_TRANSCODING
  GENERIC_FILE_DOWNLOAD_FAILURE GENERIC_FILE_INVALID_SIZE VIDEO_METADATA_READ_ERROR
  VIDEO_INVALID_FILETYPE_ERROR VIDEO_MIN_WIDTH_ERROR VIDEO_MAX_WIDTH_ERROR VIDEO_MIN_HEIGHT_ERROR
  VIDEO_MAX_HEIGHT_ERROR VIDEO_MIN_DURATION_ERROR VIDEO_MAX_DURATION_ERROR VIDEO_VALIDATION_ERROR
  MODEL3D_VALIDATION_ERROR MODEL3D_THUMBNAIL_GENERATION_ERROR MODEL3D_THUMBNAIL_REGENERATION_ERROR
  MODEL3D_GLB_TO_USDZ_CONVERSION_ERROR MODEL3D_GLB_OUTPUT_CREATION_ERROR MODEL3D_PROCESSING_FAILURE
  UNSUPPORTED_IMAGE_FILE_TYPE INVALID_IMAGE_FILE_SIZE INVALID_IMAGE_ASPECT_RATIO
  INVALID_IMAGE_RESOLUTION FILE_STORAGE_LIMIT_EXCEEDED DUPLICATE_FILENAME_ERROR
}
enum FileErrorCode {
  UNKNOWN INVALID_SIGNED_URL IMAGE_DOWNLOAD_FAILURE IMAGE_PROCESSING_FAILURE MEDIA_TIMEOUT_ERROR
  EXTERNAL_VIDEO_NOT_FOUND EXTERNAL_VIDEO_UNLISTED EXTERNAL_VIDEO_INVALID_ASPECT_RATIO
  EXTERNAL_VIDEO_EMBED_DISABLED EXTERNAL_VIDEO_EMBED_NOT_FOUND_OR_TRANSCODING
  GENERIC_FILE_DOWNLOAD_FAILURE GENERIC_FILE_INVALID_SIZE VIDEO_METADATA_READ_ERROR
  VIDEO_INVALID_FILETYPE_ERROR VIDEO_MIN_WIDTH_ERROR VIDEO_MAX_WIDTH_ERROR VIDEO_MIN_HEIGHT_ERROR
  VIDEO_MAX_HEIGHT_ERROR VIDEO_MIN_DURATION_ERROR VIDEO_MAX_DURATION_ERROR VIDEO_VALIDATION_ERROR
  MODEL3D_VALIDATION_ERROR MODEL3D_THUMBNAIL_GENERATION_ERROR MODEL3D_THUMBNAIL_REGENERATION_ERROR
  MODEL3D_GLB_TO_USDZ_CONVERSION_ERROR MODEL3D_GLB_OUTPUT_CREATION_ERROR MODEL3D_PROCESSING_FAILURE
  UNSUPPORTED_IMAGE_FILE_TYPE INVALID_IMAGE_FILE_SIZE INVALID_IMAGE_ASPECT_RATIO
  INVALID_IMAGE_RESOLUTION FILE_STORAGE_LIMIT_EXCEEDED DUPLICATE_FILENAME_ERROR
}
enum WebhookSubscriptionTopic {
  APP_UNINSTALLED
  INVENTORY_ITEMS_CREATE
  INVENTORY_ITEMS_DELETE
  INVENTORY_ITEMS_UPDATE
  INVENTORY_LEVELS_CONNECT
  INVENTORY_LEVELS_DISCONNECT
  INVENTORY_LEVELS_UPDATE
  LOCATIONS_CREATE
  LOCATIONS_DELETE
  LOCATIONS_UPDATE
  ORDERS_CANCELLED
  ORDERS_CREATE
  ORDERS_DELETE
  ORDERS_EDITED
  ORDERS_FULFILLED
  ORDERS_PAID
  ORDERS_PARTIALLY_FULFILLED
  ORDERS_UPDATED
  PRODUCTS_CREATE
  PRODUCTS_DELETE
  PRODUCTS_UPDATE
  REFUNDS_CREATE
  SHOP_UPDATE
}
enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  COMPARE_QUANTITY_REQUIRED
  COMPARE_QUANTITY_STALE
  IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_NEGATIVE
  INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW
  INVALID_REASON
  INVALID_REFERENCE_DOCUMENT
  ITEM_NOT_STOCKED_AT_LOCATION
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR
  NON_MUTABLE_INVENTORY_ITEM
}
enum ProductSetUserErrorCode {
  ID_NOT_ALLOWED
  MISSING_FIELD_REQUIRED
  INPUT_MISMATCH
  NOT_FOUND
  GENERIC_ERROR
  INVALID_VARIANT
  PRODUCT_DOES_NOT_EXIST
  PRODUCT_VARIANT_DOES_NOT_EXIST
  OPTION_DOES_NOT_EXIST
  OPTION_VALUE_DOES_NOT_EXIST
  OPTIONS_OVER_LIMIT
  OPTION_VALUES_OVER_LIMIT
  OPTION_VALUES_MISSING
  DUPLICATED_OPTION_NAME
  DUPLICATED_OPTION_VALUE
  VARIANTS_OVER_LIMIT
  PRODUCT_OPTIONS_INPUT_MISSING
  VARIANTS_INPUT_MISSING
  INVALID_PRODUCT
  INVALID_INPUT
  DUPLICATED_VALUE
  HANDLE_NOT_UNIQUE
  INVENTORY_QUANTITIES_LIMIT_EXCEEDED
}
"#;
