@week1 @wednesday @auction @monthly
Feature: Week 1 Wednesday - monthly auction
  Participants build auction portfolios of buy bids and sell offers for March 2026, within the
  $10 million credit every participant gets for Market Sim, and download the results once the
  CRR team has run the auction. The auction window closes on Thursday.

  Background:
    Given the Market Sim plan is set up
    And it is Wednesday 10:00 of week 1
    And I am the participant
    And I work in the monthly auction market

  @plan:W1-WED-PORTFOLIOS @plan:W1-WED-BUY-BIDS
  Scenario: Upload buy bids from a file and submit the portfolio
    When I create the auction portfolio "March MNTHLY 26" from the file "auction_buy_bids.csv"
    Then the request succeeds
    And the auction portfolio "March MNTHLY 26" holds 3 bids
    And the auction portfolio "March MNTHLY 26" has status "VALID"
    When I submit the auction portfolio "March MNTHLY 26"
    Then the auction portfolio "March MNTHLY 26" has status "SUBMITTED"
    And my auction portfolio list contains "March MNTHLY 26"

  @plan:W1-WED-SELL-OFFERS
  Scenario: Offer a CRR I hold for sale
    Given I hold a CRR for the market's period
    When I create the auction portfolio "March sell" offering that CRR at 1.50 $/MW
    Then the request succeeds
    And the auction portfolio "March sell" holds 1 offer
    When I submit the auction portfolio "March sell"
    Then the auction portfolio "March sell" has status "SUBMITTED"

  @plan:W1-WED-SELL-OFFERS @negative
  Scenario: Offering a CRR I do not hold is refused
    Given participant "WCAL" holds a CRR for the market's period
    When I create the auction portfolio "March sell theirs" offering that CRR at 1.50 $/MW
    Then the request is refused

  @plan:W1-WED-CREDIT
  Scenario: A portfolio inside the $10 million credit limit
    When I create the auction portfolio "March credit ok" from the file "auction_buy_bids.csv"
    Then the required credit of the auction portfolio "March credit ok" is at most $10,000,000
    When I submit the auction portfolio "March credit ok"
    Then the auction portfolio "March credit ok" has status "SUBMITTED"

  @plan:W1-WED-CREDIT @negative
  Scenario: A portfolio over the credit limit is not accepted
    When I create the auction portfolio "March credit too high" with these bids:
      | source           | sink           | tou | mw   | price   |
      | TH_NP15_GEN-APND | DLAP_PGAE-APND | ON  | 5000 | 2500.00 |
    Then the required credit of the auction portfolio "March credit too high" is above $10,000,000
    When I submit the auction portfolio "March credit too high"
    Then the request is refused
    And the auction portfolio "March credit too high" is not "SUBMITTED"

  @plan:W1-WED-BUY-BIDS
  Scenario Outline: Bid curves within the contract's rules are accepted: <curve>
    When I create the auction portfolio "<portfolio>" with one buy bid using the curve "<curve>"
    Then the request succeeds

    Examples:
      | portfolio       | curve             |
      | March curve 2   | two points        |
      | March curve 20  | twenty points     |
      | March curve 3dp | three-decimal MW  |

  @plan:W1-WED-BUY-BIDS @negative
  Scenario Outline: Bid curves breaking the contract's rules are refused: <curve>
    When I create the auction portfolio "<portfolio>" with one buy bid using the curve "<curve>"
    Then the request is refused with HTTP 400
    And my auction portfolio list does not contain "<portfolio>"

    Examples:
      | portfolio        | curve              |
      | March bad 21     | twenty-one points  |
      | March bad 1pt    | one point          |
      | March bad 4dp    | four-decimal MW    |
      | March bad neg    | negative MW        |
      | March bad start  | first point not at 0 MW |
      | March bad rising | rising price       |

  @plan:W1-WED-PORTFOLIOS @negative
  Scenario: 500 bids are accepted, 501 are refused
    When I create the auction portfolio "March bulk 500" from the file "auction_bids_500.csv"
    Then the request succeeds
    And the auction portfolio "March bulk 500" holds 500 bids
    When I create the auction portfolio "March bulk 501" from the file "auction_bids_501.csv"
    Then the request is refused with HTTP 400
    And my auction portfolio list does not contain "March bulk 501"

  @plan:W1-WED-PORTFOLIOS @negative
  Scenario: Another participant's portfolio is out of reach
    When I create the auction portfolio "March mine" from the file "auction_buy_bids.csv"
    And participant "WCAL" asks for the status of my auction portfolio "March mine"
    Then the request is refused with error "SEC0001"
    When participant "WCAL" deletes my auction portfolio "March mine"
    Then the request is refused with error "SEC0001"
    And the auction portfolio "March mine" has status "VALID"

  @plan:W1-WED-PORTFOLIOS @negative @readonly
  Scenario: A read-only certificate cannot bid
    Given I am participant "ECAL" using the "ecal-readonly" certificate
    When I create the auction portfolio "March read-only" from the file "auction_buy_bids.csv"
    Then the request is refused with HTTP 403

  @plan:W1-WED-PORTFOLIOS
  Scenario: One certificate bidding for two SC IDs
    Given I am participant "SCAL" using the "ncal" certificate
    When I create the auction portfolio "SCAL March" from the file "auction_buy_bids.csv"
    Then the request succeeds
    And my auction portfolio list contains "SCAL March"

  @plan:W1-WED-WINDOW-CLOSE @negative
  Scenario: Bidding after the window closed on Thursday is refused
    Given it is Thursday 17:30 of week 1
    When I create the auction portfolio "March late" from the file "auction_buy_bids.csv"
    Then the request is refused with error "MKT0004"
    And the market "AUC_MN_2026_M03" has status "CLOSED"

  @plan:W1-WED-AUC-RESULTS
  Scenario: Download the auction results once the CRR team has run the auction
    Given I have submitted the auction portfolio "March bids for results" from the file "auction_buy_bids.csv"
    And it is Thursday 17:30 of week 1
    When the CRR team runs the market "AUC_MN_2026_M03" and posts the results
    Then the market "AUC_MN_2026_M03" is listed among the posted auction markets
    When I download "PRIVATE_AUCTION_RESULT" as CSV
    Then I receive a ZIP archive holding CSV data
    When I download "CLEARING_PRICE" as CSV
    Then I receive a ZIP archive holding CSV data
